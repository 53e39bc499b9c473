// Calls to this server's JSON API, with refusals turned into sentences.

export type ApiResult<T> = { ok: true; body: T } | { ok: false; status: number; message: string };

export async function callJson<T>(url: string, init: RequestInit = {}): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, credentials: "same-origin" });
  } catch {
    return { ok: false, status: 0, message: "Could not reach the server. Check your connection and try again." };
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (res.ok) return { ok: true, body: body as T };
  const reason = typeof body === "object" && body !== null && typeof (body as { error?: unknown }).error === "string" ? (body as { error: string }).error : res.statusText;
  return { ok: false, status: res.status, message: explain(res.status, reason, res.headers.get("retry-after")) };
}

function explain(status: number, reason: string, retryAfter: string | null): string {
  switch (status) {
    case 400:
      return `Refused: ${reason}. Only pods built and signed with gemmapod build, unchanged since, are accepted.`;
    case 401:
      return `A token is needed: ${reason}.`;
    case 403:
      return `Not allowed: ${reason}.`;
    case 404:
      return `Not found: ${reason}.`;
    case 410:
      return `Gone: ${reason}.`;
    case 413:
      return `Too large: ${reason}.`;
    case 429: {
      const seconds = Number(retryAfter);
      return `Rate limited: ${reason}. Try again in ${Number.isFinite(seconds) && seconds > 0 ? `${seconds} second${seconds === 1 ? "" : "s"}` : "a little while"}.`;
    }
    default:
      return `The server answered ${status}: ${reason}.`;
  }
}

export function bearer(token: string): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}
