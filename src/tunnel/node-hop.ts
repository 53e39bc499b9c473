// The node-to-node hop: a visitor on one node, the tunnel's client on another. The
// visitor's node forwards the request over plain HTTP (or a websocket) to the node
// that holds the tunnel, at the address that node advertised, with the credential it
// gave out; bodies stream both ways with their own backpressure, never through Redis.
import { jsonError } from "../http/errors.ts";
import { type TunnelEndpoint, type TunnelledSocket, type VisitorInfo } from "./directory.ts";
import { hopSocket } from "./node-hop-socket.ts";

/** The path a node takes hops on; unknown to anyone without a node's credential (404). */
export const HOP_PATH = "/.cluster/tunnel/";
export const HOP_CREDENTIAL = "x-gemmapod-node";
const HOP_VISITOR = "x-gemmapod-visitor";
/**
 * On the tunnel's node's 502 when the tunnel's client is not there (any more): the hop's own
 * credential, which a tunnelled server cannot know, so only that node can say it.
 */
export const HOP_NO_CLIENT = "x-gemmapod-no-client";
/** Connection-level headers are the hop's own, not the visitor's. */
const NOT_FORWARDED = new Set(["host", "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection", HOP_CREDENTIAL, HOP_VISITOR]);

/** Where a tunnel's client is, as the visitor's node found it. */
export interface HopTarget {
  /** The node's advertised base URL, and the credential it gave out with it. */
  base: string;
  credential: string;
  name: string;
  /** How long the node may take to answer with a head (or take a websocket). */
  timeoutMs: number;
  /** Told when the node did not answer or no longer has the client: whoever cached this hop should look again. */
  stale: () => void;
}

/** A tunnel whose client is on another node, reached by a hop. */
export class NodeHop implements TunnelEndpoint {
  constructor(private readonly to: HopTarget) {}

  async fetch(request: Request, visitor: VisitorInfo): Promise<Response> {
    const { base, name, credential, stale } = this.to;
    // The visitor's going away ends the hop, and so does silence until the head.
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    if (request.signal.aborted) onAbort();
    else request.signal.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(onAbort, this.to.timeoutMs);
    let answer: Response;
    try {
      answer = await fetch(`${base}${HOP_PATH}${name}${visitor.path}`, {
        method: request.method,
        headers: this.headers(request, visitor),
        body: request.body,
        duplex: "half",
        redirect: "manual",
        signal: abort.signal,
        // The bytes go on as the tunnel's client sent them; the tunnel's own timeouts bound it.
        decompress: false,
        timeout: false,
      } as RequestInit);
    } catch {
      // A visitor who went away says nothing about the node.
      if (request.signal.aborted) return jsonError(502, "the visitor went away");
      stale();
      const silent = abort.signal.aborted;
      return jsonError(silent ? 504 : 502, silent ? `the node serving tunnel "${name}" did not answer` : `the node serving tunnel "${name}" could not be reached`);
    } finally {
      clearTimeout(timer);
    }
    const headers = new Headers(answer.headers);
    if (answer.status === 502 && headers.get(HOP_NO_CLIENT) === credential) stale();
    headers.delete(HOP_NO_CLIENT);
    return new Response(answer.body, { status: answer.status, statusText: answer.statusText, headers });
  }

  openSocket(request: Request, visitor: VisitorInfo): Promise<TunnelledSocket | Response> {
    const url = `${this.to.base.replace(/^http/, "ws")}${HOP_PATH}${this.to.name}${visitor.path}`;
    const protocols = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim()).filter(Boolean);
    const headers = this.headers(request, visitor);
    for (const name of ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"]) headers.delete(name);
    return hopSocket(url, headers, protocols, this.to.name, this.to.timeoutMs);
  }

  private headers(request: Request, visitor: VisitorInfo): Headers {
    const headers = new Headers();
    request.headers.forEach((value, name) => {
      if (!NOT_FORWARDED.has(name)) headers.append(name, value);
    });
    headers.set(HOP_CREDENTIAL, this.to.credential);
    // The path goes in the hop's own URL: what the visitor's node accepted, the tunnel's node does (the same limits).
    const { path: _, ...rest } = visitor;
    headers.set(HOP_VISITOR, Buffer.from(JSON.stringify(rest)).toString("base64url"));
    return headers;
  }
}

/**
 * On the tunnel's node: the request as the visitor sent it to the other node, and what that
 * node knew of the visitor; null if the hop is malformed. Only a node with this node's
 * credential gets here, but its fields are still checked.
 */
export function unwrapHop(req: Request): { name: string; request: Request; visitor: VisitorInfo } | null {
  // `<HOP_PATH><name><path>`: the path always starts with "/".
  const hopUrl = new URL(req.url);
  const rest = hopUrl.pathname.slice(HOP_PATH.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return null;
  const name = rest.slice(0, slash);
  const visitor = parseVisitor(req.headers.get(HOP_VISITOR), `${rest.slice(slash)}${hopUrl.search}`);
  if (!visitor) return null;
  // The URL the visitor asked for, as its node saw it: a signed request's path is checked against it.
  const url = URL.parse(`${visitor.proto}://${visitor.host}${visitor.subdomain ? "" : `/tunnel/${name}`}${visitor.path}`);
  if (!url) return null;
  const headers = new Headers();
  req.headers.forEach((value, key) => {
    if (!NOT_FORWARDED.has(key)) headers.append(key, value);
  });
  headers.set("host", visitor.host);
  const request = new Request(url.href, { method: req.method, headers, body: req.body, signal: req.signal, duplex: "half" } as RequestInit);
  return { name, request, visitor };
}

function parseVisitor(header: string | null, path: string): VisitorInfo | null {
  if (header === null || header.length > 4096) return null;
  let v: Partial<Record<keyof VisitorInfo, unknown>>;
  try {
    v = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const { ip, proto, host, subdomain } = v;
  if (typeof ip !== "string" || (proto !== "http" && proto !== "https") || typeof host !== "string") return null;
  if (typeof subdomain !== "boolean") return null;
  return { ip, proto, host, path, subdomain };
}
