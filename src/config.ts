// Every flag and environment variable the server reads, in one table. A flag on
// the command line beats its environment variable, which beats the default.

import { readFileSync } from "node:fs";
import { localUrl } from "./local-url.ts";

export type RegistryKind = "memory" | "sqlite";

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
    help: "pod registry: memory (lost on restart) or sqlite (persistent, in --data-dir)",
    parse: oneOf(["memory", "sqlite"] as const),
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
];

export type CliCommand =
  | { kind: "serve"; config: Config }
  /** Probe a running server's /health (the container HEALTHCHECK: no curl in the image). */
  | { kind: "healthcheck"; url: string }
  | { kind: "help" }
  | { kind: "version" };

export function parseArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): CliCommand {
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
  if (healthcheck) return { kind: "healthcheck", url: `${healthcheckBase ?? localUrl(config.hostname, config.port)}/health` };
  return { kind: "serve", config };
}

function parseValue<T>(parse: (raw: string) => T, raw: string, source: string): T {
  try {
    return parse(raw);
  } catch (error) {
    throw new ConfigError(`invalid ${source}: ${(error as Error).message}`);
  }
}

export function usage(): string {
  const rows = FLAGS.map((f) => {
    const left = `  ${f.flag} ${f.value}`.padEnd(30);
    const fallback = DEFAULT_CONFIG[f.key];
    return `${left}${f.help}${fallback === undefined ? "" : ` [${fallback}]`}\n${" ".repeat(30)}env: ${f.env.join(", ")}`;
  });
  return [
    "Usage: gemmapod-signal [options]",
    "       gemmapod-signal healthcheck [--url URL] [options]",
    "",
    "GemmaPod signaling broker and signed pod registry.",
    "",
    "healthcheck exits 0 if GET URL/health answers {ok: true}, else 1. URL defaults to",
    "where these options (--port, --hostname, PORT, HOST) make the server listen.",
    "",
    "Options:",
    ...rows,
    "  -h, --help                  show this help",
    "  -v, --version               print the version",
    "",
    "Sizes take an optional k, m or g suffix (binary: 64k = 65536).",
  ].join("\n");
}

function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw.trim())) throw new Error(`expected a whole number from ${min} to ${max}`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

function size(min: number, max: number) {
  return (raw: string): number => {
    const m = /^(\d+)\s*([a-z]*)$/i.exec(raw.trim());
    const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) throw new Error("expected a size such as 65536, 64k or 50m");
    const n = Number(m[1]) * unit;
    if (n < min || n > max) throw new Error(`expected a size from ${min} to ${max} bytes`);
    return n;
  };
}

function oneOf<const T extends string>(choices: readonly T[]) {
  return (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) throw new Error(`expected one of ${choices.join(", ")}`);
    return raw as T;
  };
}

function nonEmpty(raw: string): string {
  if (raw.trim() === "") throw new Error("expected a non-empty value");
  return raw;
}

function ownerKeys(raw: string): ReadonlySet<string> {
  const text = raw.startsWith("@") ? readFileSync(raw.slice(1), "utf8") : raw.replaceAll(",", "\n");
  const keys = text.split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean);
  const bad = keys.find((k) => !/^[0-9a-fA-F]{64}$/.test(k));
  if (bad !== undefined) throw new Error(`not a 64-hex-character owner key: ${JSON.stringify(bad.slice(0, 80))}`);
  if (keys.length === 0) throw new Error("no owner keys given");
  return new Set(keys.map((k) => k.toLowerCase()));
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function duration(raw: string): number {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new Error("expected a duration such as 0, 90s, 12h or 30d");
  return Number(m[1]) * DURATION_UNITS[m[2] ?? "ms"]!;
}

function secret(raw: string): string {
  if (raw.length < 16) throw new Error("use at least 16 characters");
  return raw;
}

function boolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new Error("expected true or false");
}

function pathPrefix(raw: string): string {
  if (!/^\/[A-Za-z0-9._~\/-]*$/.test(raw) || raw.includes("//")) throw new Error("expected a path such as /rondevu");
  return raw.replace(/\/+$/, "") || "/";
}

function originList(raw: string): string[] {
  const list = raw.split(",").map((o) => o.trim()).filter(Boolean);
  if (list.length === 0) throw new Error("expected * or a comma-separated list of origins");
  return list;
}

function baseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error("expected an absolute http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("expected an absolute http(s) URL");
  return url.href.replace(/\/+$/, "");
}
