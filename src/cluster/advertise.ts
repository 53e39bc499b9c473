import { networkInterfaces } from "node:os";

/**
 * Where other nodes reach this one when `--cluster-advertise` is not given: the bound address,
 * or for a wildcard bind this host's first non-loopback IPv4 address (a container's own
 * address in a compose network), else loopback (nodes on one machine).
 */
export function defaultAdvertise(hostname: string, port: number, tls: boolean): string {
  let host = hostname;
  if (hostname === "0.0.0.0" || hostname === "::") {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal);
    host = external?.address ?? "127.0.0.1";
  }
  return `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
