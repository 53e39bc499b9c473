import type { Server } from "bun";
import type { Warnings } from "../warnings.ts";

/**
 * Notices a proxy in front of a server started without `--trust-proxy`: requests
 * that carry `X-Forwarded-For` and come from a loopback or private address. Then
 * every visitor shares the proxy's address, and with it one address's limits.
 * Runs on every request and upgrade: one header lookup until the warning is
 * given, nothing after.
 */
export class ProxyWarning {
  private given = false;

  constructor(private readonly warnings: Warnings) {}

  check(req: Request, server: Server<unknown>): void {
    if (this.given || !req.headers.has("x-forwarded-for")) return;
    const address = server.requestIP(req)?.address;
    if (!address || !isPrivateAddress(address)) return;
    this.given = true;
    this.warnings.add(
      "untrusted-proxy",
      `requests from ${address} carry X-Forwarded-For but --trust-proxy is off: every client behind that proxy shares its address's rate limits. Start with --trust-proxy if that proxy is yours.`,
    );
  }
}

/** Loopback, private (RFC 1918, carrier-grade NAT, IPv6 ULA) and link-local addresses: where an operator's own proxy sits. */
export function isPrivateAddress(address: string): boolean {
  const a = address.toLowerCase();
  const v4 = a.startsWith("::ffff:") ? a.slice(7) : a;
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(v4);
  if (m) {
    const [x, y] = [Number(m[1]), Number(m[2])];
    return x === 127 || x === 10 || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168) || (x === 169 && y === 254) || (x === 100 && y >= 64 && y <= 127);
  }
  return a === "::1" || /^f[cd]/.test(a) || /^fe[89ab]/.test(a);
}
