import type { Server } from "bun";
import { clientIp } from "../http/client-ip.ts";
import { jsonError } from "../http/errors.ts";
import type { SocketHandlers } from "../http/websockets.ts";
import { throttledErrors, type Logger } from "../log/logger.ts";
import type { TunnelDirectory, TunnelEndpoint, TunnelledSocket, VisitorInfo } from "./directory.ts";
import { HOP_CREDENTIAL, HOP_NO_CLIENT, unwrapHop } from "./node-hop.ts";
import { MAX_INBOUND_CHUNK_BYTES, TUNNEL_NAME } from "./protocol.ts";
import { subdomainName } from "./urls.ts";

/** Largest websocket message a visitor may send through a tunnel: what a binary frame carries, as the other way. */
export const MAX_VISITOR_MESSAGE_BYTES = MAX_INBOUND_CHUNK_BYTES;
/** A visitor socket holding this much unsent is not reading: it is closed, not buffered for. */
const VISITOR_BACKLOG_BYTES = 1024 * 1024;

export interface TunnelVisitorData {
  kind: "tunnel-visitor";
  /** The visitor's address (on the node it reached first, for a hop). */
  ip: string;
  bridge: TunnelledSocket;
}

export interface TunnelHttpOptions {
  directory: TunnelDirectory;
  publicUrl: string | undefined;
  tunnelDomain: string | undefined;
  trustProxy: boolean;
  /** The shared websocket admission (connection cap, connect rate): the visitor's address or a refusal. */
  admit(req: Request, srv: Server<unknown>): string | Response;
  /** Whether a hop carries the credential this node gave the other cluster nodes. */
  admitsNode(credential: string | null): boolean;
  log: Logger;
}

type Answer = Response | undefined | Promise<Response | undefined>;

/** The visitor side: `/tunnel/<name>/…` (and `<name>.<domain>`) carried to the tunnel's client, bodies streamed. */
export class TunnelHttp {
  private readonly brokerOrigin: string | undefined;
  private readonly logError: ReturnType<typeof throttledErrors>;
  /** A bug in serving one request costs that request: a 500, logged. */
  private readonly internalError = (error: unknown): Response => {
    this.logError("tunnel request failed", error);
    return jsonError(500, "internal error");
  };

  constructor(private readonly options: TunnelHttpOptions) {
    this.logError = throttledErrors(options.log);
    this.brokerOrigin = options.publicUrl ? new URL(options.publicUrl).origin : options.tunnelDomain ? `https://${options.tunnelDomain}` : undefined;
  }

  /** For the `/tunnel/*` route. */
  byPath(req: Request, srv: Server<unknown>): Answer {
    const url = new URL(req.url);
    const m = /^\/tunnel\/([^/]*)(\/.*)?$/.exec(url.pathname);
    if (!m || !TUNNEL_NAME.test(m[1]!)) return jsonError(404, "no such tunnel: names are 1-63 characters a-z, 0-9 and -");
    const name = m[1]!;
    if (m[2] === undefined) return new Response(null, { status: 308, headers: { Location: `/tunnel/${name}/${url.search}` } });
    return this.carry(req, srv, name, `${m[2]}${url.search}`, false);
  }

  /** A request on `<name>.<tunnel-domain>`, or null when the Host is not one. */
  bySubdomain(req: Request, srv: Server<unknown>): Answer | null {
    if (!this.options.tunnelDomain) return null;
    const name = subdomainName(req.headers.get("host"), this.options.tunnelDomain);
    if (name === null) return null;
    const url = new URL(req.url);
    const origin = req.headers.get("origin");
    // Pods served by this broker may call their tunnel from the broker's origin.
    const cors = origin !== null && origin === this.brokerOrigin;
    if (cors && req.method === "OPTIONS" && req.headers.has("access-control-request-method")) return preflight(req, origin);
    const answer = this.carry(req, srv, name, `${url.pathname}${url.search}`, true);
    return cors ? Promise.resolve(answer).then((r) => r && withCors(r, origin)) : answer;
  }

  /** For the hop path: a request another node carries here for a tunnel whose client is on this node. */
  byHop(req: Request, srv: Server<unknown>): Answer {
    if (!this.options.admitsNode(req.headers.get(HOP_CREDENTIAL))) return jsonError(404, "Not found");
    const hop = unwrapHop(req);
    if (!hop) return jsonError(400, "malformed hop");
    // Only this node's own client: a hop never hops on (the holder moved meanwhile: 502, the visitor retries).
    const endpoint = this.options.directory.local(hop.name);
    if (!endpoint) return noClient(hop.name, { [HOP_NO_CLIENT]: req.headers.get(HOP_CREDENTIAL)! });
    srv.timeout(req, 0);
    // The visitor was admitted on its own node.
    return this.serve(req, hop.request, srv, endpoint, hop.visitor);
  }

  visitorHandlers(): SocketHandlers<TunnelVisitorData> {
    return {
      open: (ws) =>
        ws.data.bridge.opened({
          send: (data) => {
            if (ws.getBufferedAmount() > VISITOR_BACKLOG_BYTES) ws.close(1013, "visitor is not reading");
            else ws.send(data);
          },
          close: (code, reason) => ws.close(code, reason),
        }),
      message: (ws, frame) => {
        if (frame.length > MAX_VISITOR_MESSAGE_BYTES) return ws.close(1009, `message too large (limit ${MAX_VISITOR_MESSAGE_BYTES} bytes)`);
        ws.data.bridge.message(typeof frame === "string" ? frame : new Uint8Array(frame));
      },
      close: (ws, code, reason) => ws.data.bridge.closed(code, reason),
    };
  }

  private carry(req: Request, srv: Server<unknown>, name: string, path: string, subdomain: boolean): Answer {
    // Bun's own idle cut (10 s) would end a model's slow first token or a long event stream;
    // the tunnel's head and idle timeouts bound these requests instead.
    srv.timeout(req, 0);
    const visitor: VisitorInfo = { ip: clientIp(req, srv, this.options.trustProxy), proto: this.proto(req), host: req.headers.get("host") ?? "", path, subdomain };
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const admitted = this.options.admit(req, srv);
      if (typeof admitted !== "string") return admitted;
    }
    // A lookup that failed (the cluster store is away) is worth a retry, not a 500.
    const unreachable = () => jsonError(503, `tunnel "${name}" cannot be looked up right now: try again shortly`, { "Retry-After": "1" });
    return this.options.directory.find(name).then((endpoint) => (endpoint ? this.serve(req, req, srv, endpoint, visitor) : noClient(name)), unreachable);
  }

  /** `req` is what Bun received (it is what gets upgraded); `request` is what the endpoint reads. */
  private serve(req: Request, request: Request, srv: Server<unknown>, endpoint: TunnelEndpoint, visitor: VisitorInfo): Answer {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return endpoint.fetch(request, visitor).catch(this.internalError);
    return endpoint.openSocket(request, visitor).then((accepted) => {
      if (accepted instanceof Response) return accepted;
      const data: TunnelVisitorData = { kind: "tunnel-visitor", ip: visitor.ip, bridge: accepted };
      if (srv.upgrade(req, { data, headers: accepted.headers })) return undefined;
      accepted.closed(1011, "upgrade failed");
      return jsonError(400, "websocket upgrade failed");
    }, this.internalError);
  }

  private proto(req: Request): "http" | "https" {
    if (this.options.publicUrl) return this.options.publicUrl.startsWith("https:") ? "https" : "http";
    if (this.options.trustProxy && req.headers.get("x-forwarded-proto") === "https") return "https";
    return req.url.startsWith("https:") ? "https" : "http";
  }
}

function noClient(name: string, headers?: Record<string, string>): Response {
  return jsonError(502, `no tunnel client is connected for "${name}"`, headers);
}

function preflight(req: Request, origin: string): Response {
  return new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Methods": req.headers.get("access-control-request-method") ?? "GET",
      "Access-Control-Allow-Headers": req.headers.get("access-control-request-headers") ?? "",
      "Access-Control-Max-Age": "600",
      Vary: "Origin",
    },
  });
}

function withCors(response: Response, origin: string): Response {
  response.headers.set("Access-Control-Allow-Origin", origin);
  response.headers.append("Vary", "Origin");
  return response;
}
