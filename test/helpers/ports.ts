// Fixed ports for servers that must come back on the same port after a restart.

const [EPHEMERAL_LOW] = (await Bun.file("/proc/sys/net/ipv4/ip_local_port_range").text().catch(() => "32768"))
  .trim()
  .split(/\s+/)
  .map(Number) as [number];

/**
 * A random port below the kernel's ephemeral range: no outgoing connection is ever given
 * it, so it is still free when a restarted server binds it again. (Random picks inside the
 * range were taken by other tests' connections on a busy machine.) Another listener may
 * hold it: callers try another on EADDRINUSE.
 */
export function portBelowEphemeralRange(): number {
  return 10_000 + Math.floor(Math.random() * (EPHEMERAL_LOW - 10_000));
}
