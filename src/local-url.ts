const WILDCARDS = new Set(["0.0.0.0", "::"]);

/**
 * Where a process on this machine reaches a server bound to `hostname:port`:
 * a wildcard bind is reached over loopback, an IPv6 literal needs brackets.
 */
export function localUrl(hostname: string, port: number, tls = false): string {
  const host = WILDCARDS.has(hostname) ? "127.0.0.1" : hostname;
  return `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Who can reach a server bound to `hostname`: the point of saying the bind address at all. */
export function bindReach(hostname: string): string {
  if (WILDCARDS.has(hostname)) return "all interfaces";
  if (hostname === "localhost" || hostname === "::1" || hostname.startsWith("127.")) return "loopback only";
  return "this address only";
}

/**
 * The start-up line. It names the bind address and what it means, because a
 * 127.0.0.1 URL alone reads as "local only" when 0.0.0.0 is open to the network;
 * then a URL that works from this machine, and the public one when it is set.
 */
export function listeningLine(hostname: string, port: number, local: string, publicUrl: string | undefined): string {
  const bind = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  return `gemmapod-signal listening on ${bind} (${bindReach(hostname)}); locally: ${local}${publicUrl ? `; public: ${publicUrl}` : ""}`;
}
