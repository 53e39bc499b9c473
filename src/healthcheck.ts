// `gemmapod-signal healthcheck`: the container's HEALTHCHECK runs the server's own
// binary, so the runtime image needs no curl or shell.

/** Docker kills a probe at its own --timeout; give up first so the reason is logged. */
const PROBE_TIMEOUT_MS = 4000;

export type HealthResult = { healthy: true } | { healthy: false; reason: string };

/** GET `url` and accept only a 200 with a JSON body whose `ok` is true. */
export async function probeHealth(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<HealthResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    if (res.status !== 200) return { healthy: false, reason: `${url} answered ${res.status}` };
    const body: unknown = await res.json().catch(() => null);
    if (typeof body !== "object" || body === null || (body as { ok?: unknown }).ok !== true) {
      return { healthy: false, reason: `${url} did not answer {"ok": true}` };
    }
    return { healthy: true };
  } catch (error) {
    return { healthy: false, reason: `${url}: ${(error as Error).message}` };
  }
}

/** Prints the verdict and resolves with the exit status Docker expects (0 healthy, 1 not). */
export async function runHealthcheck(url: string): Promise<number> {
  const result = await probeHealth(url);
  if (result.healthy) {
    console.log(`healthy: ${url}`);
    return 0;
  }
  console.error(`unhealthy: ${result.reason}`);
  return 1;
}
