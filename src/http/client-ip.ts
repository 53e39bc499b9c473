import type { Server } from "bun";

/**
 * The address a request came from. `X-Forwarded-For` is only believed when the
 * operator says a proxy sits in front (`--trust-proxy`); otherwise anyone could
 * pick their own rate-limit bucket.
 */
export function clientIp(req: Request, server: Server<unknown>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers.get("x-forwarded-for");
    // The proxy appends the address it saw: the last entry is the one it vouches for.
    const last = forwarded?.split(",").at(-1)?.trim();
    if (last) return last;
  }
  return server.requestIP(req)?.address ?? "unknown";
}
