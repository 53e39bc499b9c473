import type { ServerWebSocket, WebSocketHandler } from "bun";
import { parseClientMessage, type ClientMessage, type ServerMessage } from "./protocol.ts";
import { podTopic, sessionTopic, type Router } from "./router.ts";
import type { SocketData } from "./socket-data.ts";

export type SignalSocket = ServerWebSocket<SocketData>;

export interface BrokerOptions {
  router: Router;
  maxMessageBytes: number;
  onOriginRegistered?: (podId: string) => void;
  onOriginDisconnected?: (podId: string) => void;
}

interface Session {
  podId: string;
  /** `SocketData.id` of the visitor that opened it. */
  visitorId: number;
}

type Msg<T extends ClientMessage["t"]> = Extract<ClientMessage, { t: T }>;

/**
 * Relays offers, answers, candidates and errors between a pod's origin and its
 * visitors. Who-may-talk-to-whom is checked here; delivery goes through the router.
 */
export class Broker {
  private readonly origins = new Map<string, SignalSocket>();
  private readonly sessions = new Map<string, Session>();
  private readonly sessionsByPod = new Map<string, Set<string>>();

  constructor(private readonly options: BrokerOptions) {}

  originPodIds(): string[] {
    return [...this.origins.keys()];
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  /** Bun websocket handlers bound to this broker. */
  handlers(): WebSocketHandler<SocketData> {
    return {
      message: (ws, frame) => this.onFrame(ws, frame),
      close: (ws) => this.onClose(ws),
    };
  }

  closeAll(): void {
    for (const ws of this.origins.values()) ws.close(1001, "server shutting down");
  }

  private onFrame(ws: SignalSocket, frame: string | Buffer): void {
    if (typeof frame !== "string") return send(ws, { t: "error", message: "binary frames are not supported; send JSON text" });
    const limit = this.options.maxMessageBytes;
    // length counts UTF-16 units (<= bytes): only measure bytes when it could matter.
    if (frame.length > limit || (frame.length * 3 > limit && Buffer.byteLength(frame) > limit)) {
      return send(ws, { t: "error", message: `message too large (limit ${limit} bytes)` });
    }
    const parsed = parseClientMessage(frame);
    if (!parsed.ok) return send(ws, { t: "error", sessionId: parsed.sessionId, message: parsed.error });
    const m = parsed.message;
    switch (m.t) {
      case "register":
        return this.register(ws, m);
      case "offer":
        return this.offer(ws, m);
      case "answer":
        return this.answer(ws, m, frame);
      case "candidate":
        return this.candidate(ws, m, frame);
      case "error":
        return this.relayError(ws, m, frame);
    }
  }

  private register(ws: SignalSocket, m: Msg<"register">): void {
    if (ws.data.role !== "none") return send(ws, { t: "error", message: "already initialized" });
    ws.data.role = "origin";
    ws.data.podId = m.podId;
    const previous = this.origins.get(m.podId);
    if (previous) {
      previous.unsubscribe(podTopic(m.podId));
      // Offers in flight went to the old origin; their visitors retry against the new one.
      this.endSessionsOfPod(m.podId, "origin offline");
      previous.close(4001, "replaced by new origin");
    }
    this.origins.set(m.podId, ws);
    ws.subscribe(podTopic(m.podId));
    send(ws, { t: "registered", podId: m.podId });
    this.options.onOriginRegistered?.(m.podId);
  }

  private offer(ws: SignalSocket, m: Msg<"offer">): void {
    const data = ws.data;
    if (data.role === "origin") return send(ws, { t: "error", sessionId: m.sessionId, message: "wrong role" });
    const existing = this.sessions.get(m.sessionId);
    if (existing && (existing.visitorId !== data.id || existing.podId !== m.podId)) {
      return send(ws, { t: "error", sessionId: m.sessionId, message: "session id already in use" });
    }
    if (!this.origins.has(m.podId)) return send(ws, { t: "error", sessionId: m.sessionId, message: "origin offline" });
    if (!existing) {
      data.role = "visitor";
      (data.sessions ??= new Set()).add(m.sessionId);
      this.sessions.set(m.sessionId, { podId: m.podId, visitorId: data.id });
      let ofPod = this.sessionsByPod.get(m.podId);
      if (!ofPod) this.sessionsByPod.set(m.podId, (ofPod = new Set()));
      ofPod.add(m.sessionId);
      ws.subscribe(sessionTopic(m.sessionId));
    }
    // Concatenation skips building an object for the 2 KB SDP; the output is identical JSON.
    this.options.router.publish(podTopic(m.podId), `{"t":"offer","sessionId":${JSON.stringify(m.sessionId)},"sdp":${JSON.stringify(m.sdp)}}`);
  }

  private answer(ws: SignalSocket, m: Msg<"answer">, frame: string): void {
    if (!this.ownSessionOfOrigin(ws, m.sessionId, true)) return;
    this.options.router.publish(sessionTopic(m.sessionId), relayText(m, frame, 3, () => ({ t: "answer", sessionId: m.sessionId, sdp: m.sdp })));
  }

  private candidate(ws: SignalSocket, m: Msg<"candidate">, frame: string): void {
    const out = () => ({ t: "candidate", sessionId: m.sessionId, candidate: m.candidate }) as const;
    if (ws.data.role === "origin") {
      // A late candidate for a session whose visitor already left is normal trickle: drop it quietly.
      if (this.ownSessionOfOrigin(ws, m.sessionId, false)) {
        this.options.router.publish(sessionTopic(m.sessionId), relayText(m, frame, 3, out));
      }
      return;
    }
    const session = this.ownSessionOfVisitor(ws, m.sessionId);
    if (session) this.options.router.publish(podTopic(session.podId), relayText(m, frame, 3, out));
  }

  private relayError(ws: SignalSocket, m: Msg<"error">, frame: string): void {
    const { sessionId } = m;
    if (sessionId === undefined) return send(ws, { t: "error", message: "error needs the sessionId it is about" });
    const out = () => ({ t: "error", sessionId, message: m.message }) as const;
    if (ws.data.role === "origin") {
      if (this.ownSessionOfOrigin(ws, sessionId, true)) {
        this.options.router.publish(sessionTopic(sessionId), relayText(m, frame, 3, out));
      }
      return;
    }
    const session = this.ownSessionOfVisitor(ws, sessionId);
    if (session) this.options.router.publish(podTopic(session.podId), relayText(m, frame, 3, out));
  }

  /** An origin may only address sessions offered to its own pod. */
  private ownSessionOfOrigin(ws: SignalSocket, sessionId: string, reportMissing: boolean): boolean {
    if (ws.data.role !== "origin") {
      send(ws, { t: "error", sessionId, message: "wrong role" });
      return false;
    }
    const session = this.sessions.get(sessionId);
    if (session && session.podId === ws.data.podId) return true;
    if (session || reportMissing) send(ws, { t: "error", sessionId, message: session ? "session belongs to another pod" : "unknown session" });
    return false;
  }

  /** A visitor may only use sessions it opened itself. */
  private ownSessionOfVisitor(ws: SignalSocket, sessionId: string): Session | undefined {
    const session = this.sessions.get(sessionId);
    if (session && session.visitorId === ws.data.id) return session;
    send(ws, { t: "error", sessionId, message: ws.data.role === "none" ? "uninitialized socket: send an offer first" : "unknown session" });
    return undefined;
  }

  private onClose(ws: SignalSocket): void {
    const data = ws.data;
    if (data.role === "origin" && data.podId !== undefined && this.origins.get(data.podId) === ws) {
      this.origins.delete(data.podId);
      this.endSessionsOfPod(data.podId, "origin offline");
      this.options.onOriginDisconnected?.(data.podId);
    } else if (data.role === "visitor" && data.sessions) {
      for (const sessionId of data.sessions) this.forgetSession(sessionId, data.id);
    }
  }

  /** Tells every visitor of a pod that it is gone and frees their sessions. */
  private endSessionsOfPod(podId: string, message: string): void {
    const ofPod = this.sessionsByPod.get(podId);
    if (!ofPod) return;
    this.sessionsByPod.delete(podId);
    for (const sessionId of ofPod) {
      this.sessions.delete(sessionId);
      this.options.router.publish(sessionTopic(sessionId), JSON.stringify({ t: "error", sessionId, message }));
    }
  }

  private forgetSession(sessionId: string, visitorId: number): void {
    const session = this.sessions.get(sessionId);
    if (!session || session.visitorId !== visitorId) return;
    this.sessions.delete(sessionId);
    const ofPod = this.sessionsByPod.get(session.podId);
    ofPod?.delete(sessionId);
    if (ofPod?.size === 0) this.sessionsByPod.delete(session.podId);
  }
}

function send(ws: SignalSocket, message: ServerMessage): void {
  ws.send(JSON.stringify(message));
}

/**
 * Forwards the client's own frame when it holds exactly the fields we would send
 * (validated, so no extra keys): saves a stringify per relayed message.
 */
function relayText(m: object, frame: string, fields: number, build: () => ServerMessage): string {
  let n = 0;
  for (const _ in m) if (++n > fields) return JSON.stringify(build());
  return n === fields ? frame : JSON.stringify(build());
}
