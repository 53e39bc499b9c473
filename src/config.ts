// Every flag and environment variable the server reads, in one table. A flag on
// the command line beats its environment variable, which beats the default.

import { localUrl } from "./local-url.ts";
import { integer, size, oneOf, nonEmpty, ownerKeys, duration, clusterTtl, positiveDuration, domainName, secret, boolean, pathPrefix, originList, urlWith, blobStore, iceUrls, baseUrl } from "./config-values.ts";
import { parseTunnelArgs, type TunnelCommand } from "./tunnel/command.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log/logger.ts";

export type RegistryKind = "memory" | "sqlite" | "postgres";

export interface Config {
  port: number;
  hostname: string;
  registry: RegistryKind;
  dataDir: string;
  maxMessageBytes: number;
  maxPodBytes: number;
  publicUrl: string | undefined;
  podCacheBytes: number;
  trustProxy: boolean;
  originAuth: "open" | "claimed" | "required";
  uploadsPerMinute: number;
  allowedOwners: ReadonlySet<string> | undefined;
  uploadToken: string | undefined;
  adminToken: string | undefined;
  maxPodsPerOwner: number;
  maxBytesPerOwner: number;
  podTtlMs: number;
  wsConnectRate: number;
  wsMessageRate: number;
  maxConnections: number;
  /** Open websockets one client address may hold (X-Forwarded-For's with --trust-proxy). */
  maxConnectionsPerAddress: number;
  /** Bun's frame cap for every websocket; 0: what the protocols need (see websocketFrameCap). */
  maxFrameBytes: number;
  maxSessionsPerSocket: number;
  maxSessionsPerPod: number;
  sessionAnswerTimeoutMs: number;
  wsIdleTimeout: number;
  rondevuPrefix: string;
  sessionTimeoutMs: number;
  corsOrigins: string[];
  rondevuMaxSdpBytes: number;
  rondevuMaxCandidates: number;
  rondevuMaxSessionsPerTopic: number;
  rondevuMaxSessions: number;
  rondevuRate: number;
  consoleMaxViewers: number;
  clusterTtlMs: number;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** `files` (in --data-dir) or `s3://bucket[/prefix]`. */
  blobStore: string;
  s3Endpoint: string | undefined;
  /** Redis URL of the cluster this node joins; needs shared storage (postgres + s3). */
  cluster: string | undefined;
  /** Where other cluster nodes reach this one directly (tunnelled requests); derived from the listener when unset. */
  clusterAdvertise: string | undefined;
  tunnelTimeoutMs: number;
  tunnelIdleTimeoutMs: number;
  tunnelMaxBodyBytes: number;
  tunnelMaxConcurrent: number;
  tunnelMaxPerKey: number;
  tunnelDomain: string | undefined;
  tunnelWindowBytes: number;
  metricsToken: string | undefined;
  logFormat: LogFormat;
  logLevel: LogLevel;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  maxPeersPerRoom: number;
  maxRoomsPerKey: number;
  peerMessageRate: number;
  peerPartnerRate: number;
  peerAuthTimeoutMs: number;
  turnUrls: string[];
  turnSecret: string | undefined;
  turnTtlMs: number;
  stunPort: number;
}

export const DEFAULT_CONFIG: Readonly<Config> = {
  port: 8080,
  hostname: "0.0.0.0",
  registry: "memory",
  dataDir: "./gemmapod-data",
  maxMessageBytes: 64 * 1024,
  maxPodBytes: 50 * 1024 * 1024,
  publicUrl: undefined,
  podCacheBytes: 128 * 1024 * 1024,
  trustProxy: false,
  originAuth: "open",
  uploadsPerMinute: 30,
  allowedOwners: undefined,
  uploadToken: undefined,
  adminToken: undefined,
  maxPodsPerOwner: 0,
  maxBytesPerOwner: 0,
  podTtlMs: 0,
  wsConnectRate: 50,
  wsMessageRate: 100,
  maxConnections: 50_000,
  maxConnectionsPerAddress: 1000,
  maxFrameBytes: 0,
  maxSessionsPerSocket: 8,
  maxSessionsPerPod: 256,
  sessionAnswerTimeoutMs: 30_000,
  wsIdleTimeout: 120,
  rondevuPrefix: "/rondevu",
  sessionTimeoutMs: 300_000,
  corsOrigins: ["*"],
  rondevuMaxSdpBytes: 64 * 1024,
  rondevuMaxCandidates: 64,
  rondevuMaxSessionsPerTopic: 1000,
  rondevuMaxSessions: 20_000,
  rondevuRate: 50,
  consoleMaxViewers: 100,
  clusterTtlMs: 10_000,
  databaseUrl: undefined,
  databasePoolSize: 10,
  blobStore: "files",
  s3Endpoint: undefined,
  cluster: undefined,
  clusterAdvertise: undefined,
  tunnelTimeoutMs: 30_000,
  tunnelIdleTimeoutMs: 120_000,
  tunnelMaxBodyBytes: 1024 * 1024 * 1024,
  tunnelMaxConcurrent: 128,
  tunnelMaxPerKey: 8,
  tunnelDomain: undefined,
  tunnelWindowBytes: 512 * 1024,
  metricsToken: undefined,
  logFormat: "text",
  logLevel: "info",
  tlsCert: undefined,
  tlsKey: undefined,
  maxPeersPerRoom: 1000,
  maxRoomsPerKey: 16,
  peerMessageRate: 50,
  peerPartnerRate: 20,
  peerAuthTimeoutMs: 10_000,
  turnUrls: [],
  turnSecret: undefined,
  turnTtlMs: 3_600_000,
  stunPort: 0,
};

interface Flag<K extends keyof Config = keyof Config> {
  key: K;
  flag: string;
  env: string[];
  value: string;
  help: string;
  parse: (raw: string) => Config[K];
}

/** Thrown for a bad flag or value; the CLI prints the message and exits 2. */
export class ConfigError extends Error {}

const flag = <K extends keyof Config>(f: Flag<K>): Flag => f as unknown as Flag;

export const FLAGS: readonly Flag[] = [
  flag({ key: "port", flag: "--port", env: ["PORT"], value: "N", help: "HTTP port (0 picks a free one)", parse: integer(0, 65535) }),
  flag({ key: "hostname", flag: "--hostname", env: ["HOST"], value: "ADDR", help: "address to bind", parse: nonEmpty }),
  flag({
    key: "registry",
    flag: "--registry",
    env: ["GEMMAPOD_SIGNAL_REGISTRY"],
    value: "KIND",
    help: "pod registry: memory (lost on restart), sqlite (persistent, in --data-dir) or postgres (--database-url, shared by nodes)",
    parse: oneOf(["memory", "sqlite", "postgres"] as const),
  }),
  flag({ key: "dataDir", flag: "--data-dir", env: ["GEMMAPOD_SIGNAL_DATA"], value: "DIR", help: "where the sqlite registry keeps its database and blobs", parse: nonEmpty }),
  flag({
    key: "maxMessageBytes",
    flag: "--max-message-bytes",
    env: ["GEMMAPOD_SIGNAL_MAX_MESSAGE_BYTES"],
    value: "SIZE",
    help: "largest signaling frame accepted (e.g. 65536, 64k)",
    parse: size(256, 16 * 1024 * 1024),
  }),
  flag({
    key: "maxPodBytes",
    flag: "--max-pod-bytes",
    env: ["GEMMAPOD_SIGNAL_MAX_POD_BYTES"],
    value: "SIZE",
    help: "largest pod accepted by POST /pods (e.g. 50m)",
    parse: size(1024, 1024 * 1024 * 1024),
  }),
  flag({
    key: "publicUrl",
    flag: "--public-url",
    env: ["GEMMAPOD_SIGNAL_PUBLIC_URL", "PUBLIC_URL"],
    value: "URL",
    help: "base of pod URLs returned by POST /pods (default: the request's origin)",
    parse: baseUrl,
  }),
  flag({
    key: "podCacheBytes",
    flag: "--pod-cache-bytes",
    env: ["GEMMAPOD_SIGNAL_POD_CACHE_BYTES"],
    value: "SIZE",
    help: "memory for hot pod pages and their brotli/gzip forms (0 disables)",
    parse: size(0, 64 * 1024 * 1024 * 1024),
  }),
  flag({
    key: "trustProxy",
    flag: "--trust-proxy",
    env: ["GEMMAPOD_SIGNAL_TRUST_PROXY"],
    value: "BOOL",
    help: "take client addresses from X-Forwarded-For (only behind a proxy you run)",
    parse: boolean,
  }),
  flag({
    key: "originAuth",
    flag: "--origin-auth",
    env: ["GEMMAPOD_SIGNAL_ORIGIN_AUTH"],
    value: "MODE",
    help: "open: anyone registers any pod; claimed: pods bound to an owner key need its proof; required: every register needs one",
    parse: oneOf(["open", "claimed", "required"] as const),
  }),
  flag({ key: "uploadsPerMinute", flag: "--upload-rate", env: ["GEMMAPOD_SIGNAL_UPLOAD_RATE"], value: "N", help: "POST /pods per minute per client address (429 past it)", parse: integer(1, 1_000_000) }),
  flag({ key: "allowedOwners", flag: "--allowed-owners", env: ["GEMMAPOD_SIGNAL_ALLOWED_OWNERS"], value: "KEYS", help: "only pods signed by these owner keys: hex,hex,… or @file (one key a line)", parse: ownerKeys }),
  flag({ key: "uploadToken", flag: "--upload-token", env: ["GEMMAPOD_SIGNAL_UPLOAD_TOKEN"], value: "SECRET", help: "shared secret (Authorization: Bearer) that may publish", parse: secret }),
  flag({ key: "adminToken", flag: "--admin-token", env: ["GEMMAPOD_SIGNAL_ADMIN_TOKEN"], value: "SECRET", help: "Bearer token for DELETE /:id and GET /admin/pods", parse: secret }),
  flag({ key: "maxPodsPerOwner", flag: "--max-pods-per-owner", env: ["GEMMAPOD_SIGNAL_MAX_PODS_PER_OWNER"], value: "N", help: "pods one owner key may keep (0 = no limit)", parse: integer(0, 1_000_000_000) }),
  flag({ key: "maxBytesPerOwner", flag: "--max-bytes-per-owner", env: ["GEMMAPOD_SIGNAL_MAX_BYTES_PER_OWNER"], value: "SIZE", help: "bytes of pods one owner key may keep (0 = no limit)", parse: size(0, 2 ** 50) }),
  flag({ key: "podTtlMs", flag: "--pod-ttl", env: ["GEMMAPOD_SIGNAL_POD_TTL"], value: "DURATION", help: "remove pods nobody fetched for this long, e.g. 30d (0 = keep forever)", parse: duration }),
  flag({ key: "wsConnectRate", flag: "--ws-connect-rate", env: ["GEMMAPOD_SIGNAL_WS_CONNECT_RATE"], value: "N", help: "new websocket connections per second per client address (burst twice that)", parse: integer(1, 1_000_000) }),
  flag({ key: "wsMessageRate", flag: "--ws-message-rate", env: ["GEMMAPOD_SIGNAL_WS_MESSAGE_RATE"], value: "N", help: "messages per second per websocket outside its sessions' allowances (burst twice that); past it: error, close 1008", parse: integer(1, 1_000_000) }),
  flag({ key: "maxConnections", flag: "--max-connections", env: ["GEMMAPOD_SIGNAL_MAX_CONNECTIONS"], value: "N", help: "open websockets in all; past it upgrades get 503", parse: integer(1, 10_000_000) }),
  flag({ key: "maxConnectionsPerAddress", flag: "--max-connections-per-address", env: ["GEMMAPOD_SIGNAL_MAX_CONNECTIONS_PER_ADDRESS"], value: "N", help: "open websockets one client address may hold; past it upgrades get 429", parse: integer(1, 10_000_000) }),
  flag({
    key: "maxFrameBytes",
    flag: "--max-frame-bytes",
    env: ["GEMMAPOD_SIGNAL_MAX_FRAME_BYTES"],
    value: "SIZE",
    help: "largest websocket frame of any socket (0: twice --max-message-bytes, at least 128k+5); raise it only for JSS-framed tunnels with big responses: each connection may hold this much unfinished, up to SIZE x --max-connections",
    parse: size(0, 64 * 1024 * 1024),
  }),
  flag({ key: "maxSessionsPerSocket", flag: "--max-sessions-per-socket", env: ["GEMMAPOD_SIGNAL_MAX_SESSIONS_PER_SOCKET"], value: "N", help: "sessions one visitor socket may negotiate at once", parse: integer(1, 100_000) }),
  flag({ key: "maxSessionsPerPod", flag: "--max-sessions-per-pod", env: ["GEMMAPOD_SIGNAL_MAX_SESSIONS_PER_POD"], value: "N", help: "sessions being negotiated with one pod at once", parse: integer(1, 10_000_000) }),
  flag({ key: "sessionAnswerTimeoutMs", flag: "--session-answer-timeout", env: ["GEMMAPOD_SIGNAL_SESSION_ANSWER_TIMEOUT"], value: "MS", help: "a session with no answer by then ends; both sides are told", parse: integer(100, 3_600_000) }),
  flag({ key: "wsIdleTimeout", flag: "--ws-idle-timeout", env: ["GEMMAPOD_SIGNAL_WS_IDLE_TIMEOUT"], value: "SECONDS", help: "close websockets silent this long (pings keep live ones open)", parse: integer(8, 960) }),
  flag({ key: "rondevuPrefix", flag: "--rondevu-prefix", env: ["GEMMAPOD_SIGNAL_RONDEVU_PREFIX"], value: "PATH", help: "where the Rondevu HTTP discovery API is mounted", parse: pathPrefix }),
  flag({ key: "sessionTimeoutMs", flag: "--session-timeout", env: ["SESSION_TIMEOUT"], value: "MS", help: "Rondevu sessions expire this many ms after creation", parse: integer(1000, 24 * 3600 * 1000) }),
  flag({ key: "corsOrigins", flag: "--cors-origins", env: ["CORS_ORIGINS"], value: "LIST", help: "origins allowed by CORS on POST /pods and the Rondevu API (comma-separated, * for any)", parse: originList }),
  flag({ key: "rondevuMaxSdpBytes", flag: "--rondevu-max-sdp-bytes", env: ["GEMMAPOD_SIGNAL_RONDEVU_MAX_SDP_BYTES"], value: "SIZE", help: "largest Rondevu offer, answer or candidate", parse: size(256, 16 * 1024 * 1024) }),
  flag({ key: "rondevuMaxCandidates", flag: "--rondevu-max-candidates", env: ["GEMMAPOD_SIGNAL_RONDEVU_MAX_CANDIDATES"], value: "N", help: "candidates per side of a Rondevu session", parse: integer(1, 100_000) }),
  flag({ key: "rondevuMaxSessionsPerTopic", flag: "--rondevu-max-sessions-per-topic", env: ["GEMMAPOD_SIGNAL_RONDEVU_MAX_SESSIONS_PER_TOPIC"], value: "N", help: "live Rondevu sessions per origin and topic", parse: integer(1, 10_000_000) }),
  flag({ key: "rondevuMaxSessions", flag: "--rondevu-max-sessions", env: ["GEMMAPOD_SIGNAL_RONDEVU_MAX_SESSIONS"], value: "N", help: "live Rondevu sessions in all (the memory bound)", parse: integer(1, 10_000_000) }),
  flag({ key: "rondevuRate", flag: "--rondevu-rate", env: ["GEMMAPOD_SIGNAL_RONDEVU_RATE"], value: "N", help: "Rondevu requests per second per client address (burst twice that)", parse: integer(1, 1_000_000) }),
  flag({ key: "consoleMaxViewers", flag: "--console-max-viewers", env: ["GEMMAPOD_SIGNAL_CONSOLE_MAX_VIEWERS"], value: "N", help: "web consoles (at /) receiving live status at once; past it 503 (10 per client address)", parse: integer(1, 100_000) }),
  flag({
    key: "databaseUrl",
    flag: "--database-url",
    env: ["GEMMAPOD_SIGNAL_DATABASE_URL", "DATABASE_URL"],
    value: "URL",
    help: "postgres://user:pass@host:port/db for --registry postgres (records, bindings, Rondevu, tunnel names)",
    // Checked only for --registry postgres: a DATABASE_URL meant for another program must not stop this one.
    parse: nonEmpty,
  }),
  flag({ key: "databasePoolSize", flag: "--database-pool", env: ["GEMMAPOD_SIGNAL_DATABASE_POOL"], value: "N", help: "most Postgres connections this node opens", parse: integer(1, 1000) }),
  flag({
    key: "blobStore",
    flag: "--blob-store",
    env: ["GEMMAPOD_SIGNAL_BLOB_STORE"],
    value: "WHERE",
    help: "pod pages of sqlite/postgres: files (in --data-dir) or s3://bucket[/prefix] (credentials from AWS_*/S3_* env)",
    parse: blobStore,
  }),
  flag({ key: "s3Endpoint", flag: "--s3-endpoint", env: ["GEMMAPOD_SIGNAL_S3_ENDPOINT", "S3_ENDPOINT"], value: "URL", help: "S3-compatible endpoint for --blob-store s3:// (MinIO, R2, …; default AWS)", parse: baseUrl }),
  flag({
    key: "cluster",
    flag: "--cluster",
    env: ["GEMMAPOD_SIGNAL_CLUSTER"],
    value: "URL",
    help: "redis://host:port of the cluster this node joins (needs --registry postgres and --blob-store s3://…)",
    parse: urlWith(["redis:", "rediss:"]),
  }),
  flag({
    key: "clusterAdvertise",
    flag: "--cluster-advertise",
    env: ["GEMMAPOD_SIGNAL_CLUSTER_ADVERTISE"],
    value: "URL",
    help: "http://address:port where other cluster nodes reach this one (tunnelled requests; default: --hostname, or for 0.0.0.0 this host's first non-loopback IPv4, and --port)",
    parse: baseUrl,
  }),
  flag({ key: "clusterTtlMs", flag: "--cluster-ttl", env: ["GEMMAPOD_SIGNAL_CLUSTER_TTL"], value: "DURATION", help: "a cluster node silent this long is dead: its origins are offline (e.g. 10s)", parse: clusterTtl }),
  flag({ key: "tunnelTimeoutMs", flag: "--tunnel-timeout", env: ["GEMMAPOD_SIGNAL_TUNNEL_TIMEOUT"], value: "DURATION", help: "a tunnelled request with no response head by then gets 504 (e.g. 30s)", parse: positiveDuration }),
  flag({ key: "tunnelIdleTimeoutMs", flag: "--tunnel-idle-timeout", env: ["GEMMAPOD_SIGNAL_TUNNEL_IDLE_TIMEOUT"], value: "DURATION", help: "a tunnelled body with nothing moving this long is cut (e.g. 120s)", parse: positiveDuration }),
  flag({ key: "tunnelMaxBodyBytes", flag: "--tunnel-max-body-bytes", env: ["GEMMAPOD_SIGNAL_TUNNEL_MAX_BODY_BYTES"], value: "SIZE", help: "largest request body a visitor may send through a tunnel (413 past it; JSS-framed tunnels: at most 10m)", parse: size(0, 2 ** 50) }),
  flag({ key: "tunnelMaxConcurrent", flag: "--tunnel-max-concurrent", env: ["GEMMAPOD_SIGNAL_TUNNEL_MAX_CONCURRENT"], value: "N", help: "requests one tunnel serves at once (503 past it)", parse: integer(1, 100_000) }),
  flag({ key: "tunnelMaxPerKey", flag: "--tunnel-max-per-key", env: ["GEMMAPOD_SIGNAL_TUNNEL_MAX_PER_KEY"], value: "N", help: "tunnel names one key may hold", parse: integer(1, 100_000) }),
  flag({ key: "tunnelDomain", flag: "--tunnel-domain", env: ["GEMMAPOD_SIGNAL_TUNNEL_DOMAIN"], value: "DOMAIN", help: "serve each tunnel on its own origin <name>.<domain> (needs wildcard DNS and TLS)", parse: domainName }),
  flag({ key: "tunnelWindowBytes", flag: "--tunnel-window", env: ["GEMMAPOD_SIGNAL_TUNNEL_WINDOW"], value: "SIZE", help: "bytes of one tunnelled body in flight each way (the broker's memory per request)", parse: size(64 * 1024, 64 * 1024 * 1024) }),
  flag({ key: "metricsToken", flag: "--metrics-token", env: ["GEMMAPOD_SIGNAL_METRICS_TOKEN"], value: "SECRET", help: "Bearer token GET /metrics requires (default: open)", parse: secret }),
  flag({ key: "logFormat", flag: "--log-format", env: ["GEMMAPOD_SIGNAL_LOG_FORMAT"], value: "FORMAT", help: "log lines as text or json (one object a line)", parse: oneOf(LOG_FORMATS) }),
  flag({ key: "logLevel", flag: "--log-level", env: ["GEMMAPOD_SIGNAL_LOG_LEVEL"], value: "LEVEL", help: "least severe lines logged: debug, info (one per request), warn or error", parse: oneOf(LOG_LEVELS) }),
  flag({ key: "tlsCert", flag: "--tls-cert", env: ["GEMMAPOD_SIGNAL_TLS_CERT"], value: "FILE", help: "PEM certificate chain: serve HTTPS and WSS directly (with --tls-key; SIGHUP re-reads both)", parse: nonEmpty }),
  flag({ key: "tlsKey", flag: "--tls-key", env: ["GEMMAPOD_SIGNAL_TLS_KEY"], value: "FILE", help: "PEM private key of --tls-cert", parse: nonEmpty }),
  flag({ key: "maxPeersPerRoom", flag: "--max-peers-per-room", env: ["GEMMAPOD_SIGNAL_MAX_PEERS_PER_ROOM"], value: "N", help: "peers in one /.webrtc room; past it: error, close 1008", parse: integer(2, 1_000_000) }),
  flag({ key: "maxRoomsPerKey", flag: "--max-rooms-per-key", env: ["GEMMAPOD_SIGNAL_MAX_ROOMS_PER_KEY"], value: "N", help: "/.webrtc rooms one key may be in at once", parse: integer(1, 100_000) }),
  flag({ key: "peerMessageRate", flag: "--peer-message-rate", env: ["GEMMAPOD_SIGNAL_PEER_MESSAGE_RATE"], value: "N", help: "messages per second per /.webrtc socket (burst twice that), plus --peer-partner-rate per peer it negotiates with", parse: integer(1, 1_000_000) }),
  flag({ key: "peerPartnerRate", flag: "--peer-partner-rate", env: ["GEMMAPOD_SIGNAL_PEER_PARTNER_RATE"], value: "N", help: "more messages per second for each peer a socket sent an offer or answer to in the last 30 s", parse: integer(0, 1_000_000) }),
  flag({ key: "peerAuthTimeoutMs", flag: "--peer-auth-timeout", env: ["GEMMAPOD_SIGNAL_PEER_AUTH_TIMEOUT"], value: "MS", help: "a /.webrtc socket not signed in by then gets an error and close 4003", parse: integer(100, 600_000) }),
  flag({ key: "turnUrls", flag: "--turn-url", env: ["GEMMAPOD_SIGNAL_TURN_URL", "TURN_URL"], value: "URLS", help: "TURN server(s) handed to peers with short-lived credentials: turn:host:3478[,turns:host:5349]", parse: iceUrls }),
  flag({ key: "turnSecret", flag: "--turn-secret", env: ["GEMMAPOD_SIGNAL_TURN_SECRET", "TURN_SECRET"], value: "SECRET", help: "the TURN server's static-auth-secret (coturn use-auth-secret)", parse: secret }),
  flag({ key: "turnTtlMs", flag: "--turn-ttl", env: ["GEMMAPOD_SIGNAL_TURN_TTL"], value: "DURATION", help: "lifetime of the TURN credentials handed out, e.g. 1h", parse: duration }),
  flag({ key: "stunPort", flag: "--stun-port", env: ["GEMMAPOD_SIGNAL_STUN_PORT"], value: "N", help: "UDP port answering STUN Binding requests, on --hostname (0 = off)", parse: integer(0, 65535) }),
];

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
