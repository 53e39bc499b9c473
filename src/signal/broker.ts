import type { ServerWebSocket, WebSocketHandler } from "bun";
import type { Config } from "../config.ts";
import { parseClientMessage, type ClientMessage, type ServerMessage } from "./protocol.ts";
import { podTopic, sessionTopic, type Router } from "./router.ts";
import { newSession, SPARE_FRAMES, type Session } from "./session.ts";
import type { SocketData } from "./socket-data.ts";
import type { PodBindings } from "../registry/bindings.ts";
import { verifyOwnerToken } from "./owner-token.ts";
import { textForOrigin, textForVisitor, type RelayedMessage } from "./relay-text.ts";
import { FrameBudget } from "../limits/frame-budget.ts";

/** open: anyone may register any pod (the reference). claimed: bound pods need proof. required: every register does. */
export type OriginAuth = Config["originAuth"];

export type SignalSocket = ServerWebSocket<SocketData>;

export interface BrokerOptions {
  router: Router;
  maxMessageBytes: number;
  /** Messages per second per socket outside its sessions' allowances; bursts of twice that. */
  messageRate: number;
  maxSessionsPerSocket: number;
  maxSessionsPerPod: number;
  /** A session with no answer by then is ended and both sides are told. */
  answerTimeoutMs: number;
  originAuth: OriginAuth;
  bindings: PodBindings;
  onOriginRegistered?: (podId: string) => void;
  onOriginDisconnected?: (podId: string) => void;
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
  private connections = 0;
  private readonly sweeper: Timer;
  private readonly budget: FrameBudget;

  constructor(private readonly options: BrokerOptions) {
    this.budget = new FrameBudget(options.messageRate, SPARE_FRAMES);
    this.sweeper = setInterval(() => this.expireUnanswered(), Math.max(250, Math.min(options.answerTimeoutMs / 4, 5000)));
    this.sweeper.unref();
  }

  connectionCount(): number {
    return this.connections;
  }

  originPodIds(): string[] {
    return [...this.origins.keys()];
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  /** Bun websocket handlers bound to this broker. */
  handlers(): WebSocketHandler<SocketData> {
    return {
      open: (ws) => {
        this.connections++;
        // Older clients ignore unknown message types; owners can answer it.
        ws.send(`{"t":"challenge","nonce":"${ws.data.nonce}"}`);
      },
      message: (ws, frame) => this.onFrame(ws, frame),
      close: (ws) => {
        this.connections--;
        this.onClose(ws);
      },
    };
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const ws of this.origins.values()) ws.close(1001, "server shutting down");
  }

  private onFrame(ws: SignalSocket, frame: string | Buffer): void {
    if (!this.budget.charge(ws.data)) {
      send(ws, { t: "error", message: `rate limit exceeded (${this.options.messageRate} messages/s)` });
      return ws.close(1008, "rate limit exceeded");
    }
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
        return this.offer(ws, m, frame);
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
    if (this.options.originAuth === "open" && m.ownerToken === undefined) return this.becomeOrigin(ws, m.podId, false);
    ws.data.role = "registering";
    void this.registerWithProof(ws, m).catch((error) => {
      console.error("[gemmapod-signal] register failed:", error);
      this.refuse(ws, "register failed");
    });
  }

  /** Checks an ownerToken (Ed25519 over this socket's nonce) against the pod's binding and mode. */
  private async registerWithProof(ws: SignalSocket, m: Msg<"register">): Promise<void> {
    const { originAuth, bindings } = this.options;
    const proven = m.ownerToken === undefined ? null : await verifyOwnerToken(m.ownerToken, m.podId, ws.data.nonce);
    if (ws.readyState !== 1) return;
    if (m.ownerToken !== undefined && proven === null) return this.refuse(ws, "ownerToken does not prove an owner key for this pod and challenge");
    const owner = bindings.owner(m.podId);
    if (proven === null) {
      if (originAuth === "required") return this.refuse(ws, "this broker requires an ownerToken proof to register");
      if (owner !== null) return this.refuse(ws, `pod ${m.podId} is claimed by an owner key: register with an ownerToken proof`);
      // Unclaimed: anyone may register, but never in place of a proven origin.
      if (this.origins.get(m.podId)?.data.proven) return this.refuse(ws, "a proven origin holds this pod");
      return this.becomeOrigin(ws, m.podId, false);
    }
    if (owner !== null && owner !== proven) return this.refuse(ws, `pod ${m.podId} belongs to another owner key`);
    if (owner === null) bindings.bind(m.podId, proven);
    this.becomeOrigin(ws, m.podId, true);
  }

  private refuse(ws: SignalSocket, message: string): void {
    ws.data.role = "none";
    send(ws, { t: "error", message });
    ws.close(4003, "origin not authorized");
  }

  private becomeOrigin(ws: SignalSocket, podId: string, proven: boolean): void {
    ws.data.role = "origin";
    ws.data.podId = podId;
    if (proven) ws.data.proven = true;
    const previous = this.origins.get(podId);
    if (previous) {
      previous.unsubscribe(podTopic(podId));
      // Offers in flight went to the old origin; their visitors retry against the new one.
      this.endSessionsOfPod(podId, "origin offline");
      previous.close(4001, "replaced by new origin");
    }
    this.origins.set(podId, ws);
    ws.subscribe(podTopic(podId));
    send(ws, { t: "registered", podId });
    this.options.onOriginRegistered?.(podId);
  }

  private offer(ws: SignalSocket, m: Msg<"offer">, frame: string): void {
    const data = ws.data;
    if (data.role === "origin" || data.role === "registering") return send(ws, { t: "error", sessionId: m.sessionId, message: "wrong role" });
    const existing = this.sessions.get(m.sessionId);
    if (existing && (existing.visitorId !== data.id || existing.podId !== m.podId)) {
      return send(ws, { t: "error", sessionId: m.sessionId, message: "session id already in use" });
    }
    if (!this.origins.has(m.podId)) return send(ws, { t: "error", sessionId: m.sessionId, message: "origin offline" });
    let session = existing;
    if (!session) {
      const mine = (data.sessions ??= new Set());
      if (mine.size >= this.options.maxSessionsPerSocket) this.pruneEnded(mine, data.id);
      if (mine.size >= this.options.maxSessionsPerSocket) {
        return send(ws, { t: "error", sessionId: m.sessionId, message: `too many sessions on this socket (limit ${this.options.maxSessionsPerSocket})` });
      }
      let ofPod = this.sessionsByPod.get(m.podId);
      if (ofPod && ofPod.size >= this.options.maxSessionsPerPod) {
        return send(ws, { t: "error", sessionId: m.sessionId, message: "pod busy: too many sessions being negotiated" });
      }
      data.role = "visitor";
      mine.add(m.sessionId);
      session = newSession(m.podId, m.sessionId, data.id);
      this.sessions.set(m.sessionId, session);
      if (!ofPod) this.sessionsByPod.set(m.podId, (ofPod = new Set()));
      ofPod.add(m.sessionId);
      ws.subscribe(session.toVisitor);
    }
    session.visitorLeft = this.budget.payFrom(data, session.visitorLeft);
    this.options.router.publish(session.toOrigin, textForOrigin(m, frame));
  }

  private answer(ws: SignalSocket, m: Msg<"answer">, frame: string): void {
    const session = this.ownSessionOfOrigin(ws, m.sessionId, true);
    if (!session) return;
    session.answered = true;
    this.options.router.publish(session.toVisitor, textForVisitor(m, frame));
  }

  private candidate(ws: SignalSocket, m: Msg<"candidate">, frame: string): void {
    // From an origin, a late candidate for a session whose visitor already left is normal trickle: dropped quietly.
    const session = ws.data.role === "origin" ? this.ownSessionOfOrigin(ws, m.sessionId, false) : this.ownSessionOfVisitor(ws, m.sessionId);
    if (session) this.passOn(ws, session, m, frame);
  }

  private relayError(ws: SignalSocket, m: Msg<"error">, frame: string): void {
    const { sessionId } = m;
    if (sessionId === undefined) return send(ws, { t: "error", message: "error needs the sessionId it is about" });
    const session = ws.data.role === "origin" ? this.ownSessionOfOrigin(ws, sessionId, true) : this.ownSessionOfVisitor(ws, sessionId);
    if (session) this.passOn(ws, session, m, frame);
  }

  /** Candidates and errors go to the other side of their session. */
  private passOn(ws: SignalSocket, session: Session, m: RelayedMessage, frame: string): void {
    if (ws.data.role === "origin") this.options.router.publish(session.toVisitor, textForVisitor(m, frame));
    else this.options.router.publish(session.toOrigin, textForOrigin(m, frame));
  }

  /**
   * An origin may only address sessions offered to its own pod. Its frames for them are
   * paid from the session's allowance, and those for ended (unknown) sessions from its spare.
   */
  private ownSessionOfOrigin(ws: SignalSocket, sessionId: string, reportMissing: boolean): Session | undefined {
    const data = ws.data;
    if (data.role !== "origin") {
      send(ws, { t: "error", sessionId, message: "wrong role" });
      return undefined;
    }
    const session = this.sessions.get(sessionId);
    if (session && session.podId === data.podId) {
      session.originLeft = this.budget.payFrom(data, session.originLeft);
      return session;
    }
    if (!session) this.budget.paySpare(data);
    if (session || reportMissing) send(ws, { t: "error", sessionId, message: session ? "session belongs to another pod" : "unknown session" });
    return undefined;
  }

  /** A visitor may only use sessions it opened itself; its frames for them are paid from the session's allowance. */
  private ownSessionOfVisitor(ws: SignalSocket, sessionId: string): Session | undefined {
    const session = this.sessions.get(sessionId);
    if (session && session.visitorId === ws.data.id) {
      session.visitorLeft = this.budget.payFrom(ws.data, session.visitorLeft);
      return session;
    }
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

  /**
   * Ends sessions still unanswered after the timeout, telling both sides.
   * Sessions sit in the map in offer order, so the scan stops at the first young one.
   */
  private expireUnanswered(): void {
    const cutoff = performance.now() - this.options.answerTimeoutMs;
    for (const [sessionId, session] of this.sessions) {
      if (session.openedAt > cutoff) break;
      if (session.answered) continue;
      const message = "session expired: no answer from the origin in time";
      const text = JSON.stringify({ t: "error", sessionId, message });
      this.options.router.publish(session.toVisitor, text);
      this.options.router.publish(session.toOrigin, text);
      this.forgetSession(sessionId, session.visitorId);
    }
  }

  /** Drops ids of sessions that ended (expired, origin gone) from a visitor's own list. */
  private pruneEnded(mine: Set<string>, visitorId: number): void {
    for (const id of mine) if (this.sessions.get(id)?.visitorId !== visitorId) mine.delete(id);
  }

  private forgetSession(sessionId: string, visitorId: number): void {
    const session = this.sessions.get(sessionId);
    if (!session || session.visitorId !== visitorId) return;
    this.sessions.delete(sessionId);
    const ofPod = this.sessionsByPod.get(session.podId);
    ofPod?.delete(sessionId);
    if (ofPod?.size === 0) this.sessionsByPod.delete(session.podId);
    // The origin may still trickle a few candidates for it.
    const origin = this.origins.get(session.podId);
    if (origin) this.budget.spill(origin.data, session.originLeft);
  }
}

function send(ws: SignalSocket, message: ServerMessage): void {
  ws.send(JSON.stringify(message));
}
