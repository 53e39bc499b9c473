import type { Server, ServerWebSocket } from "bun";
import type { Claim, Hub } from "../cluster/hub.ts";
import { jsonError } from "../http/errors.ts";
import type { SocketHandlers } from "../http/websockets.ts";
import type { SignedRequestVerifier } from "../identity/signed-request.ts";
import { AuthGate, authHost, newAuthState, type AuthState } from "../identity/socket-auth.ts";
import { throttledErrors, type Logger } from "../log/logger.ts";
import type { TunnelNames } from "../registry/tunnel-names.ts";
import { tunnelAccess } from "./access.ts";
import { tunnelClaim, type LocalTunnelDirectory } from "./directory.ts";
import type { TunnelSettings } from "./exchange.ts";
import { TunnelLink } from "./link.ts";
import { TunnelBudget } from "./budget.ts";
import { decodeFrame, JSS_MAX_FRAME_BYTES, MAX_INBOUND_CHUNK_BYTES, MAX_INBOUND_FRAME_BYTES, MAX_CONTROL_BYTES, parseClientMessage, type ClientMessage, type ServerMessage } from "./protocol.ts";
import { TunnelSession } from "./session.ts";
import { tunnelUrl } from "./urls.ts";
import type { WindowBudget } from "./window.ts";

export interface TunnelSocketData {
  kind: "tunnel";
  ip: string;
  auth: AuthState;
  /** The scheme and host the client dialed, for the URL `registered` reports. */
  base: string;
  budget: TunnelBudget;
  link?: TunnelLink;
  registering?: boolean;
  session?: TunnelSession;
  claim?: Claim;
}

export type TunnelSocket = ServerWebSocket<TunnelSocketData>;

export interface TunnelBrokerOptions {
  hub: Hub;
  names: TunnelNames;
  directory: LocalTunnelDirectory;
  settings: TunnelSettings;
  /** Memory for all tunnels' growing windows (--tunnel-memory). */
  windowMemory: WindowBudget;
  maxPerKey: number;
  publicUrl: string | undefined;
  tunnelDomain: string | undefined;
  trustProxy: boolean;
  verifier: SignedRequestVerifier;
  /** Frames per second of a socket serving nothing. */
  messageRate: number;
  authTimeoutMs?: number;
  log: Logger;
}

/** Through the socket's link: nothing is sent to a backed-up socket (Bun would close it). */
const send = (ws: ServerWebSocket<{ auth: AuthState }>, message: ServerMessage | Record<string, unknown>) => (ws as TunnelSocket).data.link!.sendJson(message);

/** The /.tunnel sockets: sign-in, register, and frames routed to the session's requests. */
export class TunnelBroker {
  private readonly gate: AuthGate<TunnelSocketData>;
  private readonly sockets = new Set<TunnelSocket>();
  private readonly logError: ReturnType<typeof throttledErrors>;

  constructor(private readonly options: TunnelBrokerOptions) {
    this.logError = throttledErrors(options.log);
    this.gate = new AuthGate<TunnelSocketData>({ timeoutMs: options.authTimeoutMs ?? 10_000, send, onAuthenticated: () => {} });
  }

  /** The upgrade for `WS /.tunnel`, after the shared admission check gave `ip`. */
  upgrade(req: Request, srv: Server<unknown>, ip: string): Response | undefined {
    const host = authHost(req, this.options.publicUrl);
    if (!host) return jsonError(400, "a Host header is required");
    // Behind a TLS proxy the client dialed wss:, and visitors will use https:.
    const proto = this.options.trustProxy && req.headers.get("x-forwarded-proto") === "https" ? "https" : "http";
    const base = this.options.publicUrl ?? `${proto}://${host}`;
    const data: TunnelSocketData = { kind: "tunnel", ip, auth: newAuthState(host), base, budget: new TunnelBudget(this.options.messageRate, Math.max(5, this.options.messageRate / 5)) };
    if (srv.upgrade(req, { data })) return undefined;
    return jsonError(426, "WS /.tunnel expects a websocket upgrade", { Upgrade: "websocket" });
  }

  handlers(): SocketHandlers<TunnelSocketData> {
    return {
      open: (ws) => {
        this.sockets.add(ws);
        ws.data.link = new TunnelLink(ws);
        this.gate.open(ws);
      },
      message: (ws, frame) => {
        // A bug here must cost one tunnel, not the process (Bun ends it on a throw in a handler).
        try {
          this.onFrame(ws, frame);
        } catch (error) {
          this.logError("tunnel frame failed", error, { tunnel: ws.data.session?.name });
          ws.close(1011, "internal error");
        }
      },
      drain: (ws) => (ws.data.session ? ws.data.session.onDrain() : ws.data.link?.flush()),
      close: (ws) => this.onClose(ws),
    };
  }

  tunnels(): string[] {
    return this.options.directory.names();
  }

  closeAll(): void {
    for (const ws of this.sockets) ws.close(1001, "server shutting down");
  }

  private onFrame(ws: TunnelSocket, frame: string | Buffer): void {
    const { session, budget } = ws.data;
    const live = session?.live() ?? 0;
    if (!budget.frame(live, frame.length)) return this.cutOff(ws, "rate limit exceeded");
    if (typeof frame !== "string") return this.onBinary(ws, frame);
    const limit = session && !session.streams() ? JSS_MAX_FRAME_BYTES : MAX_CONTROL_BYTES;
    if (frame.length > limit) return this.wrong(ws, `message too large (limit ${limit} bytes)`);
    const parsed = parseClientMessage(frame);
    if (!parsed.ok) return this.wrong(ws, parsed.error, parsed.id);
    const m = parsed.message;
    if (this.gate.take(ws, m)) return;
    if (m.type === "register") return void this.register(ws, m);
    if (m.type === "auth") return;
    if (m.type === "ping") return send(ws, { type: "pong", at: m.at });
    if (!session) return this.wrong(ws, "register a tunnel name first");
    if (m.type === "pong") return session.pong(m.at);
    this.routed(ws, session.onMessage(m), m.id);
  }

  private onBinary(ws: TunnelSocket, frame: Buffer): void {
    const { session } = ws.data;
    if (!ws.data.auth.publicKey || !session) return this.wrong(ws, "binary frames carry request bodies: sign in and register first");
    if (frame.byteLength > MAX_INBOUND_FRAME_BYTES) return this.wrong(ws, `binary frame too large (payload limit ${MAX_INBOUND_CHUNK_BYTES} bytes)`);
    const decoded = decodeFrame(frame);
    if (!decoded.ok) return this.wrong(ws, decoded.error);
    const { kind, id, payload } = decoded.message;
    // Bun gives every message its own buffer: the payload may be kept without a copy.
    this.routed(ws, session.onFrame(kind, id, payload), id);
  }

  private routed(ws: TunnelSocket, result: "ok" | "finished" | "unknown", id: number): void {
    // Frames for a request the visitor just cancelled are still on their way: not the client's
    // fault, and already paid for from the frame budget; they are dropped.
    if (result === "unknown") this.wrong(ws, `no request with id ${id}`, id);
  }

  private async register(ws: TunnelSocket, m: Extract<ClientMessage, { type: "register" }>): Promise<void> {
    const { data } = ws;
    if (data.session || data.registering) return this.wrong(ws, "this socket already registered a tunnel (open another socket for another name)");
    data.registering = true;
    const key = data.auth.publicKey!;
    try {
      const claimed = await this.options.names.claimTunnelName(m.name, key, this.options.maxPerKey);
      if (ws.readyState !== 1) return;
      if (claimed === "taken-by-other") return send(ws, { type: "error", message: `tunnel name "${m.name}" belongs to another key` });
      if (claimed === "too-many") return send(ws, { type: "error", message: `this key already holds its limit of ${this.options.maxPerKey} tunnel names` });
      const claim = await this.options.hub.claim(tunnelClaim(m.name), key, () => this.replaced(ws));
      if (ws.readyState !== 1) return claim.release();
      const { settings, windowMemory } = this.options;
      const session = new TunnelSession(m.name, data.link!, m, settings, tunnelAccess(m, this.options.verifier), windowMemory);
      data.session = session;
      data.claim = claim;
      this.options.directory.set(m.name, session);
      const url = tunnelUrl(m.name, data.base, this.options.tunnelDomain);
      // A client that asked for growing windows learns the largest; an older one keeps its fixed window.
      const windows = m.stream ? { window: settings.window, ...(session.grows() ? { maxWindow: settings.maxWindow } : {}) } : {};
      send(ws, { type: "registered", name: m.name, url, ...windows });
      session.probe();
    } catch (error) {
      this.logError("tunnel register failed", error, { tunnel: m.name });
      // The store or the cluster is away: the client's reconnect (with its backoff) is the retry.
      send(ws, { type: "error", message: "register failed: try again later" });
      ws.close(1013, "register failed: try again later");
    } finally {
      data.registering = false;
    }
  }

  /** Another socket of the same key registered the name: this one steps aside. */
  private replaced(ws: TunnelSocket): void {
    const { session } = ws.data;
    if (session) this.options.directory.delete(session.name, session);
    session?.close("the tunnel client was replaced by a new connection");
    ws.data.session = undefined;
    ws.data.claim = undefined;
    ws.close(4001, "replaced by a new tunnel client");
  }

  private onClose(ws: TunnelSocket): void {
    this.sockets.delete(ws);
    this.gate.close(ws);
    const { session, claim } = ws.data;
    if (!session) return;
    this.options.directory.delete(session.name, session);
    claim?.release();
    session.close("the tunnel client disconnected");
  }

  /** A malformed or misplaced frame: an error, and a close once the junk allowance is spent. */
  private wrong(ws: TunnelSocket, message: string, id?: number): void {
    if (!ws.data.budget.wrong()) return this.cutOff(ws, "too many bad frames");
    send(ws, { type: "error", message, ...(id !== undefined ? { id } : {}) });
  }

  private cutOff(ws: TunnelSocket, message: string): void {
    send(ws, { type: "error", message });
    ws.close(1008, message);
  }
}
