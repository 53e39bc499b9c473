// `gemmapod-signal healthcheck`: the container's HEALTHCHECK runs the server's own
// binary, so the runtime image needs no curl or shell.

/** Docker kills a probe at its own --timeout; give up first so the reason is logged. */
const PROBE_TIMEOUT_MS = 4000;

export type HealthResult = { healthy: true } | { healthy: false; reason: string };

/** GET `url` and accept only a 200 with a JSON body whose `ok` is true. */
export async function probeHealth(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<HealthResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual", tls: { rejectUnauthorized: !isLoopbackHttps(url) } });
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

/**
 * The probe runs next to the server (a container's HEALTHCHECK), whose
 * certificate names its public host and may be self-signed: over loopback
 * there is no one in between to verify against, so it is not checked there.
 */
function isLoopbackHttps(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === "https:" && (hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname));
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
