/**
 * Where a process on this machine reaches a server bound to `hostname:port`:
 * a wildcard bind is reached over loopback, an IPv6 literal needs brackets.
 */
export function localUrl(hostname: string, port: number, tls = false): string {
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  return `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
