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
/** Connection-level headers are the hop's own, not the visitor's. */
const NOT_FORWARDED = new Set(["host", "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection", HOP_CREDENTIAL, HOP_VISITOR]);

/** What the visitor's node knew that the tunnel's node must use as its own. */
interface HopVisitor extends VisitorInfo {
  /** The URL the visitor asked for (a signed request's path is checked against it). */
  url: string;
}

/** A tunnel whose client is on another node, reached by a hop. */
export class NodeHop implements TunnelEndpoint {
  constructor(
    private readonly base: string,
    private readonly credential: string,
    private readonly name: string,
    /** Told when the node did not answer: whoever cached this hop should look again. */
    private readonly unreachable: () => void,
  ) {}

  async fetch(request: Request, visitor: VisitorInfo): Promise<Response> {
    let answer: Response;
    try {
      answer = await fetch(`${this.base}${HOP_PATH}${this.name}`, {
        method: request.method,
        headers: this.headers(request, visitor),
        body: request.body,
        duplex: "half",
        redirect: "manual",
        signal: request.signal,
        // The bytes go on as the tunnel's client sent them; the tunnel's own timeouts bound it.
        decompress: false,
        timeout: false,
      } as RequestInit);
    } catch {
      // A visitor who went away says nothing about the node.
      if (!request.signal.aborted) this.unreachable();
      return jsonError(502, `the node serving tunnel "${this.name}" could not be reached`);
    }
    return new Response(answer.body, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
  }

  openSocket(request: Request, visitor: VisitorInfo): Promise<TunnelledSocket | Response> {
    const url = `${this.base.replace(/^http/, "ws")}${HOP_PATH}${this.name}`;
    const protocols = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim()).filter(Boolean);
    const headers = this.headers(request, visitor);
    for (const name of ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"]) headers.delete(name);
    return hopSocket(url, headers, protocols, this.name);
  }

  private headers(request: Request, visitor: VisitorInfo): Headers {
    const headers = new Headers();
    request.headers.forEach((value, name) => {
      if (!NOT_FORWARDED.has(name)) headers.append(name, value);
    });
    const hop: HopVisitor = { ...visitor, url: request.url };
    headers.set(HOP_CREDENTIAL, this.credential);
    headers.set(HOP_VISITOR, Buffer.from(JSON.stringify(hop)).toString("base64url"));
    return headers;
  }
}

/**
 * On the tunnel's node: the request as the visitor sent it to the other node, and what that
 * node knew of the visitor; null if the hop is malformed. Only a node with this node's
 * credential gets here, but its fields are still checked.
 */
export function unwrapHop(req: Request): { name: string; request: Request; visitor: VisitorInfo } | null {
  const name = new URL(req.url).pathname.slice(HOP_PATH.length);
  const hop = parseVisitor(req.headers.get(HOP_VISITOR));
  if (!hop || name.length === 0) return null;
  const headers = new Headers();
  req.headers.forEach((value, key) => {
    if (!NOT_FORWARDED.has(key)) headers.append(key, value);
  });
  headers.set("host", hop.host);
  const { url, ...visitor } = hop;
  const request = new Request(url, { method: req.method, headers, body: req.body, signal: req.signal, duplex: "half" } as RequestInit);
  return { name, request, visitor };
}

function parseVisitor(header: string | null): HopVisitor | null {
  if (header === null || header.length > 32 * 1024) return null;
  let v: Partial<Record<keyof HopVisitor, unknown>>;
  try {
    v = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const { ip, proto, host, path, subdomain, url } = v;
  if (typeof ip !== "string" || (proto !== "http" && proto !== "https") || typeof host !== "string" || typeof path !== "string" || !path.startsWith("/")) return null;
  if (typeof subdomain !== "boolean" || typeof url !== "string" || !URL.canParse(url)) return null;
  return { ip, proto, host, path, subdomain, url };
}
