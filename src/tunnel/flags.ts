// Options of `/.tunnel` and the tunnelled requests it carries.
import { integer, size, positiveDuration, domainName } from "../config-values.ts";
import { flag } from "../flags.ts";

export const TUNNEL_FLAGS = {
  tunnelTimeoutMs: flag({ flag: "--tunnel-timeout", env: ["GEMMAPOD_SIGNAL_TUNNEL_TIMEOUT"], value: "DURATION", help: "a tunnelled request with no response head by then gets 504 (e.g. 30s)", parse: positiveDuration, default: 30_000 }),
  tunnelIdleTimeoutMs: flag({ flag: "--tunnel-idle-timeout", env: ["GEMMAPOD_SIGNAL_TUNNEL_IDLE_TIMEOUT"], value: "DURATION", help: "a tunnelled body with nothing moving this long is cut (e.g. 120s)", parse: positiveDuration, default: 120_000 }),
  tunnelMaxBodyBytes: flag({ flag: "--tunnel-max-body-bytes", env: ["GEMMAPOD_SIGNAL_TUNNEL_MAX_BODY_BYTES"], value: "SIZE", help: "largest request body a visitor may send through a tunnel (413 past it; JSS-framed tunnels: at most 10m)", parse: size(0, 2 ** 50), default: 1024 * 1024 * 1024 }),
  tunnelMaxConcurrent: flag({ flag: "--tunnel-max-concurrent", env: ["GEMMAPOD_SIGNAL_TUNNEL_MAX_CONCURRENT"], value: "N", help: "requests one tunnel serves at once (503 past it)", parse: integer(1, 100_000), default: 128 }),
  tunnelMaxPerKey: flag({ flag: "--tunnel-max-per-key", env: ["GEMMAPOD_SIGNAL_TUNNEL_MAX_PER_KEY"], value: "N", help: "tunnel names one key may hold", parse: integer(1, 100_000), default: 8 }),
  tunnelDomain: flag<string | undefined>({ flag: "--tunnel-domain", env: ["GEMMAPOD_SIGNAL_TUNNEL_DOMAIN"], value: "DOMAIN", help: "serve each tunnel on its own origin <name>.<domain> (needs wildcard DNS and TLS)", parse: domainName, default: undefined }),
  tunnelWindowBytes: flag({ flag: "--tunnel-window", env: ["GEMMAPOD_SIGNAL_TUNNEL_WINDOW"], value: "SIZE", help: "bytes of one tunnelled body in flight each way: fixed for older clients, the first window for growing ones", parse: size(64 * 1024, 64 * 1024 * 1024), default: 512 * 1024 }),
  // 16 MiB carries 1 Gbit/s over 100 ms (12.5 MB in flight, plus the credit still on its way back).
  tunnelMaxWindowBytes: flag({ flag: "--tunnel-max-window", env: ["GEMMAPOD_SIGNAL_TUNNEL_MAX_WINDOW"], value: "SIZE", help: "largest window one tunnelled body grows to on a long, fast path (the broker's memory per request)", parse: size(64 * 1024, 1024 * 1024 * 1024), default: 16 * 1024 * 1024 }),
  tunnelMemoryPerTunnelBytes: flag({ flag: "--tunnel-memory-per-tunnel", env: ["GEMMAPOD_SIGNAL_TUNNEL_MEMORY_PER_TUNNEL"], value: "SIZE", help: "response-body windows of one tunnel together, beyond 64 KiB each", parse: size(0, 2 ** 40), default: 32 * 1024 * 1024 }),
  tunnelMemoryBytes: flag({ flag: "--tunnel-memory", env: ["GEMMAPOD_SIGNAL_TUNNEL_MEMORY"], value: "SIZE", help: "response-body windows of all tunnels together, beyond 64 KiB each", parse: size(0, 2 ** 40), default: 256 * 1024 * 1024 }),
};
