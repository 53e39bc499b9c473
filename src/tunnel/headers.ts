// Which headers cross the tunnel. Tunnelled pages share the broker's origin with
// the pods (whose runtime keeps visitor keys in that origin's storage), so by
// default the broker strips what could reach that origin's state and sandboxes
// the page into an opaque origin.
import type { ResponseHeaders } from "./protocol.ts";

/** Connection-level headers (RFC 9110 §7.6.1): they never cross a proxy. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

/** Response headers that act on the whole origin, not just this response. */
const ORIGIN_WIDE = new Set(["clear-site-data", "service-worker-allowed", "strict-transport-security", "alt-svc", "content-security-policy", "content-security-policy-report-only"]);

/** Set by the broker only; a visitor's own values are dropped. */
const FORWARDED = new Set(["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded"]);

/** Bun's websocket handshake headers: the client opens its own handshake to the local server. */
const WS_HANDSHAKE = new Set(["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept"]);

/** Gives tunnelled pages an opaque origin: no access to the broker origin's storage or cookies. */
export const TUNNEL_SANDBOX_CSP = "sandbox allow-scripts allow-forms allow-popups";

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VALUE = /^[^\r\n\0]*$/;

export interface Forwarding {
  /** The visitor's address. */
  ip: string;
  proto: "http" | "https";
  host: string;
  passthrough: boolean;
}

function connectionTokens(headers: Headers | Map<string, string>): Set<string> {
  const value = headers.get("connection") ?? "";
  return new Set(value.toLowerCase().split(",").map((t) => t.trim()).filter(Boolean));
}

/** The visitor's request headers as the tunnel client receives them. */
export function requestHeadersForClient(headers: Headers, forwarding: Forwarding, upgrade: boolean): Record<string, string> {
  const named = connectionTokens(headers);
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || named.has(name) || FORWARDED.has(name) || WS_HANDSHAKE.has(name)) return;
    if (!forwarding.passthrough && (name === "cookie" || name === "authorization")) return;
    out[name] = value;
  });
  if (upgrade) {
    out["connection"] = "Upgrade";
    out["upgrade"] = "websocket";
  }
  out["x-forwarded-for"] = forwarding.ip;
  out["x-forwarded-proto"] = forwarding.proto;
  out["x-forwarded-host"] = forwarding.host;
  return out;
}

export type HeaderCheck = { ok: true; headers: Headers } | { ok: false; error: string };

/**
 * The tunnel client's response headers as the visitor receives them, or why
 * they are malformed (a 502). `sandbox` is off on per-tunnel subdomains.
 */
export function responseHeadersForVisitor(raw: ResponseHeaders, options: { passthrough: boolean; sandbox: boolean }): HeaderCheck {
  const headers = new Headers();
  const entries = Object.entries(raw);
  if (entries.length > 256) return { ok: false, error: "too many response headers" };
  const named = new Set<string>();
  for (const [name, value] of entries) {
    if (name.toLowerCase() === "connection" && typeof value === "string") for (const t of value.toLowerCase().split(",")) named.add(t.trim());
  }
  for (const [rawName, value] of entries) {
    if (!TOKEN.test(rawName)) return { ok: false, error: `invalid response header name ${JSON.stringify(rawName.slice(0, 60))}` };
    const values = typeof value === "string" ? [value] : Array.isArray(value) && value.every((v) => typeof v === "string") ? value : null;
    if (!values || values.some((v) => !VALUE.test(v))) return { ok: false, error: `invalid value for response header ${rawName}` };
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name) || ORIGIN_WIDE.has(name) || WS_HANDSHAKE.has(name)) continue;
    // The body is re-framed on the way out; its length is the body's own.
    if (name === "content-length") continue;
    if (name === "set-cookie" && !options.passthrough) continue;
    for (const v of values) headers.append(name, v);
  }
  if (options.sandbox) headers.set("content-security-policy", TUNNEL_SANDBOX_CSP);
  return { ok: true, headers };
}
