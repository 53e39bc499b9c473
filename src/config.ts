// Every flag and environment variable the server reads. A flag on the command
// line beats its environment variable, which beats the default.

import { localUrl } from "./local-url.ts";
import { integer, size, oneOf, nonEmpty, ownerKeys, duration, clusterTtl, secret, boolean, originList, urlWith, blobStore, baseUrl } from "./config-values.ts";
import { defaultsOf, flag, type FlagSpec, type ValuesOf } from "./flags.ts";
import { PROTOCOL_FLAGS } from "./protocols/flags.ts";
import { parseTunnelArgs, type TunnelCommand } from "./tunnel/command.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log/logger.ts";

export type RegistryKind = "memory" | "sqlite" | "postgres";

/** The server's own options; each protocol's are in its folder (see protocols/flags.ts). */
const CORE_FLAGS = {
  port: flag({ flag: "--port", env: ["PORT"], value: "N", help: "HTTP port (0 picks a free one)", parse: integer(0, 65535), default: 8080 }),
  hostname: flag({ flag: "--hostname", env: ["HOST"], value: "ADDR", help: "address to bind", parse: nonEmpty, default: "0.0.0.0" }),
  registry: flag({
    flag: "--registry",
    env: ["GEMMAPOD_SIGNAL_REGISTRY"],
    value: "KIND",
    help: "pod registry: memory (lost on restart), sqlite (persistent, in --data-dir) or postgres (--database-url, shared by nodes)",
    parse: oneOf(["memory", "sqlite", "postgres"] as const),
    default: "memory",
  }),
  dataDir: flag({ flag: "--data-dir", env: ["GEMMAPOD_SIGNAL_DATA"], value: "DIR", help: "where the sqlite registry keeps its database and blobs", parse: nonEmpty, default: "./gemmapod-data" }),
  maxMessageBytes: flag({
    flag: "--max-message-bytes",
    env: ["GEMMAPOD_SIGNAL_MAX_MESSAGE_BYTES"],
    value: "SIZE",
    help: "largest signaling frame accepted (e.g. 65536, 64k)",
    parse: size(256, 16 * 1024 * 1024),
    default: 64 * 1024,
  }),
  maxPodBytes: flag({
    flag: "--max-pod-bytes",
    env: ["GEMMAPOD_SIGNAL_MAX_POD_BYTES"],
    value: "SIZE",
    help: "largest pod accepted by POST /pods (e.g. 50m)",
    parse: size(1024, 1024 * 1024 * 1024),
    default: 50 * 1024 * 1024,
  }),
  publicUrl: flag<string | undefined>({
    flag: "--public-url",
    env: ["GEMMAPOD_SIGNAL_PUBLIC_URL", "PUBLIC_URL"],
    value: "URL",
    help: "base of pod URLs returned by POST /pods (default: the request's origin)",
    parse: baseUrl,
    default: undefined,
  }),
  podCacheBytes: flag({
    flag: "--pod-cache-bytes",
    env: ["GEMMAPOD_SIGNAL_POD_CACHE_BYTES"],
    value: "SIZE",
    help: "memory for hot pod pages and their brotli/gzip forms (0 disables)",
    parse: size(0, 64 * 1024 * 1024 * 1024),
    default: 128 * 1024 * 1024,
  }),
  trustProxy: flag({
    flag: "--trust-proxy",
    env: ["GEMMAPOD_SIGNAL_TRUST_PROXY"],
    value: "BOOL",
    help: "take client addresses from X-Forwarded-For (only behind a proxy you run)",
    parse: boolean,
    default: false,
  }),
  uploadsPerMinute: flag({ flag: "--upload-rate", env: ["GEMMAPOD_SIGNAL_UPLOAD_RATE"], value: "N", help: "POST /pods per minute per client address (429 past it)", parse: integer(1, 1_000_000), default: 30 }),
  allowedOwners: flag<ReadonlySet<string> | undefined>({ flag: "--allowed-owners", env: ["GEMMAPOD_SIGNAL_ALLOWED_OWNERS"], value: "KEYS", help: "only pods signed by these owner keys: hex,hex,… or @file (one key a line)", parse: ownerKeys, default: undefined }),
  uploadToken: flag<string | undefined>({ flag: "--upload-token", env: ["GEMMAPOD_SIGNAL_UPLOAD_TOKEN"], value: "SECRET", help: "shared secret (Authorization: Bearer) that may publish", parse: secret, default: undefined }),
  adminToken: flag<string | undefined>({ flag: "--admin-token", env: ["GEMMAPOD_SIGNAL_ADMIN_TOKEN"], value: "SECRET", help: "Bearer token for DELETE /:id and GET /admin/pods", parse: secret, default: undefined }),
  maxPodsPerOwner: flag({ flag: "--max-pods-per-owner", env: ["GEMMAPOD_SIGNAL_MAX_PODS_PER_OWNER"], value: "N", help: "pods one owner key may keep (0 = no limit)", parse: integer(0, 1_000_000_000), default: 0 }),
  maxBytesPerOwner: flag({ flag: "--max-bytes-per-owner", env: ["GEMMAPOD_SIGNAL_MAX_BYTES_PER_OWNER"], value: "SIZE", help: "bytes of pods one owner key may keep (0 = no limit)", parse: size(0, 2 ** 50), default: 0 }),
  podTtlMs: flag({ flag: "--pod-ttl", env: ["GEMMAPOD_SIGNAL_POD_TTL"], value: "DURATION", help: "remove pods nobody fetched for this long, e.g. 30d (0 = keep forever)", parse: duration, default: 0 }),
  wsConnectRate: flag({ flag: "--ws-connect-rate", env: ["GEMMAPOD_SIGNAL_WS_CONNECT_RATE"], value: "N", help: "new websocket connections per second per client address (burst twice that)", parse: integer(1, 1_000_000), default: 50 }),
  wsMessageRate: flag({ flag: "--ws-message-rate", env: ["GEMMAPOD_SIGNAL_WS_MESSAGE_RATE"], value: "N", help: "messages per second per websocket outside its sessions' allowances (burst twice that); past it: error, close 1008", parse: integer(1, 1_000_000), default: 100 }),
  maxConnections: flag({ flag: "--max-connections", env: ["GEMMAPOD_SIGNAL_MAX_CONNECTIONS"], value: "N", help: "open websockets in all; past it upgrades get 503", parse: integer(1, 10_000_000), default: 50_000 }),
  maxConnectionsPerAddress: flag({ flag: "--max-connections-per-address", env: ["GEMMAPOD_SIGNAL_MAX_CONNECTIONS_PER_ADDRESS"], value: "N", help: "open websockets one client address may hold; past it upgrades get 429", parse: integer(1, 10_000_000), default: 1000 }),
  maxFrameBytes: flag({
    flag: "--max-frame-bytes",
    env: ["GEMMAPOD_SIGNAL_MAX_FRAME_BYTES"],
    value: "SIZE",
    help: "largest websocket frame of any socket (0: twice --max-message-bytes, at least 128k+5); raise it only for JSS-framed tunnels with big responses: each connection may hold this much unfinished, up to SIZE x --max-connections",
    parse: size(0, 64 * 1024 * 1024),
    default: 0,
  }),
  wsIdleTimeout: flag({ flag: "--ws-idle-timeout", env: ["GEMMAPOD_SIGNAL_WS_IDLE_TIMEOUT"], value: "SECONDS", help: "close websockets silent this long (pings keep live ones open)", parse: integer(8, 960), default: 120 }),
  corsOrigins: flag({ flag: "--cors-origins", env: ["CORS_ORIGINS"], value: "LIST", help: "origins allowed by CORS on POST /pods and the Rondevu API (comma-separated, * for any)", parse: originList, default: ["*"] }),
  consoleMaxViewers: flag({ flag: "--console-max-viewers", env: ["GEMMAPOD_SIGNAL_CONSOLE_MAX_VIEWERS"], value: "N", help: "web consoles (at /) receiving live status at once; past it 503 (10 per client address)", parse: integer(1, 100_000), default: 100 }),
  databaseUrl: flag<string | undefined>({
    flag: "--database-url",
    env: ["GEMMAPOD_SIGNAL_DATABASE_URL", "DATABASE_URL"],
    value: "URL",
    help: "postgres://user:pass@host:port/db for --registry postgres (records, bindings, Rondevu, tunnel names)",
    // Checked only for --registry postgres: a DATABASE_URL meant for another program must not stop this one.
    parse: nonEmpty,
    default: undefined,
  }),
  databasePoolSize: flag({ flag: "--database-pool", env: ["GEMMAPOD_SIGNAL_DATABASE_POOL"], value: "N", help: "most Postgres connections this node opens", parse: integer(1, 1000), default: 10 }),
  blobStore: flag({
    flag: "--blob-store",
    env: ["GEMMAPOD_SIGNAL_BLOB_STORE"],
    value: "WHERE",
    help: "pod pages of sqlite/postgres: files (in --data-dir) or s3://bucket[/prefix] (credentials from AWS_*/S3_* env)",
    parse: blobStore,
    default: "files",
  }),
  s3Endpoint: flag<string | undefined>({ flag: "--s3-endpoint", env: ["GEMMAPOD_SIGNAL_S3_ENDPOINT", "S3_ENDPOINT"], value: "URL", help: "S3-compatible endpoint for --blob-store s3:// (MinIO, R2, …; default AWS)", parse: baseUrl, default: undefined }),
  cluster: flag<string | undefined>({
    flag: "--cluster",
    env: ["GEMMAPOD_SIGNAL_CLUSTER"],
    value: "URL",
    help: "redis://host:port of the cluster this node joins (needs --registry postgres and --blob-store s3://…)",
    parse: urlWith(["redis:", "rediss:"]),
    default: undefined,
  }),
  clusterAdvertise: flag<string | undefined>({
    flag: "--cluster-advertise",
    env: ["GEMMAPOD_SIGNAL_CLUSTER_ADVERTISE"],
    value: "URL",
    help: "http://address:port where other cluster nodes reach this one (tunnelled requests; default: --hostname, or for 0.0.0.0 this host's first non-loopback IPv4, and --port)",
    parse: baseUrl,
    default: undefined,
  }),
  clusterTtlMs: flag({ flag: "--cluster-ttl", env: ["GEMMAPOD_SIGNAL_CLUSTER_TTL"], value: "DURATION", help: "a cluster node silent this long is dead: its origins are offline (e.g. 10s)", parse: clusterTtl, default: 10_000 }),
  metricsToken: flag<string | undefined>({ flag: "--metrics-token", env: ["GEMMAPOD_SIGNAL_METRICS_TOKEN"], value: "SECRET", help: "Bearer token GET /metrics requires (default: open)", parse: secret, default: undefined }),
  logFormat: flag({ flag: "--log-format", env: ["GEMMAPOD_SIGNAL_LOG_FORMAT"], value: "FORMAT", help: "log lines as text or json (one object a line)", parse: oneOf(LOG_FORMATS), default: "text" }),
  logLevel: flag({ flag: "--log-level", env: ["GEMMAPOD_SIGNAL_LOG_LEVEL"], value: "LEVEL", help: "least severe lines logged: debug, info (one per request), warn or error", parse: oneOf(LOG_LEVELS), default: "info" }),
  tlsCert: flag<string | undefined>({ flag: "--tls-cert", env: ["GEMMAPOD_SIGNAL_TLS_CERT"], value: "FILE", help: "PEM certificate chain: serve HTTPS and WSS directly (with --tls-key; SIGHUP re-reads both)", parse: nonEmpty, default: undefined }),
  tlsKey: flag<string | undefined>({ flag: "--tls-key", env: ["GEMMAPOD_SIGNAL_TLS_KEY"], value: "FILE", help: "PEM private key of --tls-cert", parse: nonEmpty, default: undefined }),
};

const ALL_FLAGS = { ...CORE_FLAGS, ...PROTOCOL_FLAGS };

export type Config = ValuesOf<typeof ALL_FLAGS>;

export const DEFAULT_CONFIG: Readonly<Config> = defaultsOf(ALL_FLAGS);

/** Thrown for a bad flag or value; the CLI prints the message and exits 2. */
export class ConfigError extends Error {}

interface Flag extends FlagSpec<unknown> {
  key: keyof Config;
}

/** Every option in --help order: the server's own, then each protocol's. */
export const FLAGS: readonly Flag[] = Object.entries(ALL_FLAGS).map(([key, spec]) => ({ key: key as keyof Config, ...spec }));


export type CliCommand =
  | { kind: "serve"; config: Config }
  /** Probe a running server's /health (the container HEALTHCHECK: no curl in the image). */
  | { kind: "healthcheck"; url: string }
  /** Expose a local HTTP server through a broker. */
  | { kind: "tunnel"; tunnel: TunnelCommand }
  | { kind: "help" }
  | { kind: "version" };

export function parseArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): CliCommand {
  if (argv[0] === "tunnel") {
    if (argv.includes("--help") || argv.includes("-h")) return { kind: "help" };
    try {
      return { kind: "tunnel", tunnel: parseTunnelArgs(argv.slice(1)) };
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  const config: Config = { ...DEFAULT_CONFIG };
  const set = (f: Flag, raw: string, source: string) => {
    (config as unknown as Record<string, unknown>)[f.key] = parseValue(f.parse, raw, source);
  };
  for (const f of FLAGS) {
    const name = f.env.find((e) => env[e] !== undefined && env[e] !== "");
    if (name) set(f, env[name]!, `${name}=${env[name]}`);
  }
  const healthcheck = argv[0] === "healthcheck";
  let healthcheckBase: string | undefined;
  for (let i = healthcheck ? 1 : 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    if (arg === "--version" || arg === "-v") return { kind: "version" };
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const f = FLAGS.find((x) => x.flag === name);
    const isUrl = healthcheck && name === "--url";
    if (!f && !isUrl) throw new ConfigError(`unknown option ${JSON.stringify(name)} (see --help)`);
    // A bare boolean flag (`--trust-proxy`) means true; it may also take a value.
    const bare = f?.value === "BOOL" && eq === -1 && !/^(true|false|1|0|yes|no|on|off)$/i.test(argv[i + 1] ?? "");
    const raw = bare ? "true" : eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (raw === undefined) throw new ConfigError(`${name} needs a value`);
    if (f) set(f, raw, `${name} ${raw}`);
    else healthcheckBase = parseValue(baseUrl, raw, `${name} ${raw}`);
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) throw new ConfigError("--tls-cert and --tls-key go together: give both or neither");
  if (healthcheck) return { kind: "healthcheck", url: `${healthcheckBase ?? localUrl(config.hostname, config.port, config.tlsCert !== undefined)}/health` };
  if (config.turnUrls.length > 0 && !config.turnSecret) throw new ConfigError("--turn-url needs --turn-secret: the TURN server's shared secret");
  checkStorage(config);
  return { kind: "serve", config };
}

/** Combinations that cannot work are refused at start, each with its one-line reason. */
function checkStorage(config: Config): void {
  if (config.registry === "postgres") {
    if (config.databaseUrl === undefined) throw new ConfigError("--registry postgres needs --database-url postgres://… (or DATABASE_URL)");
    // The URL may hold a password: the reason names the rule, not the value.
    parseValue(urlWith(["postgres:", "postgresql:"]), config.databaseUrl, "--database-url (or DATABASE_URL)");
  }
  if (config.registry === "memory" && config.blobStore !== "files") throw new ConfigError("--blob-store needs --registry sqlite or postgres (the memory registry keeps pages in memory)");
  if (config.cluster === undefined) return;
  if (config.registry !== "postgres") throw new ConfigError(`--cluster needs --registry postgres: the ${config.registry} registry keeps its records on this node only`);
  if (config.blobStore === "files") throw new ConfigError("--cluster needs --blob-store s3://…: files in --data-dir are on this node only");
}

function parseValue<T>(parse: (raw: string) => T, raw: string, source: string): T {
  try {
    return parse(raw);
  } catch (error) {
    throw new ConfigError(`invalid ${source}: ${(error as Error).message}`);
  }
}
