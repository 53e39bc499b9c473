import type { ServerWebSocket } from "bun";
import type { SocketHandlers } from "../http/websockets.ts";
import type { Config } from "../config.ts";
import { parseClientMessage, type ClientMessage, type ServerMessage } from "./protocol.ts";
import { podTopic, sessionTopic, type Hub } from "../cluster/hub.ts";
import type { SocketData } from "./socket-data.ts";
import type { PodBindings } from "../registry/bindings.ts";
import { verifyOwnerToken } from "../identity/owner-token.ts";
import { textOverLimit } from "../limits/frame-size.ts";
import { textForOrigin, textForVisitor } from "./relay-text.ts";
import { SignalObserver } from "./signal-observer.ts";
import { FrameBudget } from "../limits/frame-budget.ts";
import { newSession, ORIGIN_POOL_FRAMES, SESSION_FRAMES, type Session } from "./session.ts";
import type { SessionFailure } from "../metrics/server-metrics.ts";

/** open: anyone may register any pod (the reference). claimed: bound pods need proof. required: every register does. */
export type OriginAuth = Config["originAuth"];

export type SignalSocket = ServerWebSocket<SocketData>;

export interface BrokerOptions {
  hub: Hub;
  maxMessageBytes: number;
  /** Messages per second per socket; bursts of twice that. */
  messageRate: number;
  maxSessionsPerSocket: number;
  maxSessionsPerPod: number;
  /** A session with no answer by then is ended and both sides are told. */
  answerTimeoutMs: number;
  originAuth: OriginAuth;
  bindings: PodBindings;
  onOriginRegistered?: (podId: string) => void;
  onOriginDisconnected?: (podId: string) => void;
  /** Metrics and logs of sessions and limits; a detached one if not given. */
  observer?: SignalObserver;
}

/** Notes on what reached a socket: `OFFERED + sessionId` (to an origin), `ANSWERED` or `FAILED + sessionId` (to a visitor). */
const OFFERED = "o";
const ANSWERED = "a";
const FAILED = "e";

/** The claim value of an origin that proved its owner key: no unproven origin may take its place. */
const PROVEN = "proven";

type Msg<T extends ClientMessage["t"]> = Extract<ClientMessage, { t: T }>;

/** The sessions this node's visitors opened with one pod, and the watch on its origin. */
interface PodSessions {
  ids: Set<string>;
  unwatch: () => void;
}

/**
 * Relays offers, answers, candidates and errors between a pod's origin and its
 * visitors. Who-may-talk-to-whom is checked here; delivery and ownership go through the hub.
 * Sessions live on the visitor's node; an origin answers on its own pod's session topics,
 * so it needs no lookup and can reach no other pod's visitors.
 */
export class Broker {
  private readonly origins = new Map<string, SignalSocket>();
  private readonly sessions = new Map<string, Session>();
  private readonly sessionsByPod = new Map<string, PodSessions>();
  /** Sessions ever offered here; the console samples it for its sessions-per-second graph. */
  private started = 0;
  private readonly sweeper: Timer;
  private readonly observer: SignalObserver;
  private readonly frames: SignalObserver["frames"];
  private readonly budget: FrameBudget;

  constructor(private readonly options: BrokerOptions) {
    this.budget = new FrameBudget(options.messageRate, ORIGIN_POOL_FRAMES);
    this.observer = options.observer ?? SignalObserver.detached();
    this.frames = this.observer.frames;
    this.sweeper = setInterval(() => this.expireUnanswered(), Math.max(250, Math.min(options.answerTimeoutMs / 4, 5000)));
    this.sweeper.unref();
    // Notes say what reached a socket here: an offer (the origin's allowance grows), or an
    // origin's answer or error (the visitor's session is answered, or failed).
    options.hub.onNote((topic, note) => {
      if (note[0] === OFFERED) {
        const origin = this.origins.get(topic.slice(2));
        if (origin) this.budget.spill(origin.data, SESSION_FRAMES);
        return;
      }
      const session = this.sessions.get(note.slice(1));
      if (session?.toVisitor !== topic || session.answered) return;
      if (note[0] === ANSWERED) {
        session.answered = true;
        this.observer.sessionAnswered(session.openedAt);
      } else this.observer.sessionFailed("origin_error", session.podId, note.slice(1), session.openedAt);
    });
  }

  originPodIds(): string[] {
    return [...this.origins.keys()];
  }

  originCount(): number {
    return this.origins.size;
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  sessionsStarted(): number {
    return this.started;
  }

  /** Whether the pod has an origin on any node. */
  async hasOrigin(podId: string): Promise<boolean> {
    return (await this.options.hub.holder(podTopic(podId))) !== null;
  }

  /** Websocket handlers bound to this broker. */
  handlers(): SocketHandlers<SocketData> {
    return {
      open: (ws) => {
        // Older clients ignore unknown message types; owners can answer it.
        ws.send(`{"t":"challenge","nonce":"${ws.data.nonce}"}`);
      },
      message: (ws, frame) => this.onFrame(ws, frame),
      close: (ws) => this.onClose(ws),
    };
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const ws of this.origins.values()) ws.close(1001, "server shutting down");
  }

  private onFrame(ws: SignalSocket, frame: string | Buffer): void {
    // Every frame takes a token; those of a live session get it back from the session's allowance.
    if (!this.budget.charge(ws.data)) {
      this.observer.refused("ws_messages");
      send(ws, { t: "error", message: `rate limit exceeded (${this.options.messageRate} messages/s)` });
      return ws.close(1008, "rate limit exceeded");
    }
    if (typeof frame !== "string") return send(ws, { t: "error", message: "binary frames are not supported; send JSON text" });
    const limit = this.options.maxMessageBytes;
    if (textOverLimit(frame, limit)) return send(ws, { t: "error", message: `message too large (limit ${limit} bytes)` });
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
    ws.data.role = "registering";
    const registering = this.options.originAuth === "open" && m.ownerToken === undefined ? this.becomeOrigin(ws, m.podId, false) : this.registerWithProof(ws, m);
    void registering.catch((error) => {
      this.observer.log.error("register failed", { podId: m.podId, error: (error as Error).message });
      this.refuse(ws, "register failed");
    });
  }

  /** Checks an ownerToken (Ed25519 over this socket's nonce) against the pod's binding and mode. */
  private async registerWithProof(ws: SignalSocket, m: Msg<"register">): Promise<void> {
    const { originAuth, bindings } = this.options;
    const proven = m.ownerToken === undefined ? null : await verifyOwnerToken(m.ownerToken, m.podId, ws.data.nonce);
    if (ws.readyState !== 1) return;
    if (m.ownerToken !== undefined && proven === null) return this.refuse(ws, "ownerToken does not prove an owner key for this pod and challenge");
    const owner = await bindings.owner(m.podId);
    if (ws.readyState !== 1) return;
    if (proven === null) {
      if (originAuth === "required") return this.refuse(ws, "this broker requires an ownerToken proof to register");
      if (owner !== null) return this.refuse(ws, `pod ${m.podId} is claimed by an owner key: register with an ownerToken proof`);
      // Unclaimed: anyone may register, but never in place of a proven origin.
      if ((await this.options.hub.holder(podTopic(m.podId))) === PROVEN) return this.refuse(ws, "a proven origin holds this pod");
      return this.becomeOrigin(ws, m.podId, false);
    }
    // Claiming is atomic in the store: of two owners racing for one pod id, one wins.
    const bound = owner ?? (await bindings.bind(m.podId, proven));
    if (ws.readyState !== 1) return;
    if (bound !== proven) return this.refuse(ws, `pod ${m.podId} belongs to another owner key`);
    return this.becomeOrigin(ws, m.podId, true);
  }

  private refuse(ws: SignalSocket, message: string): void {
    ws.data.role = "none";
    send(ws, { t: "error", message });
    ws.close(4003, "origin not authorized");
  }

  /** Takes the pod id on every node; an older origin of it, wherever it is, is replaced. */
  private async becomeOrigin(ws: SignalSocket, podId: string, proven: boolean): Promise<void> {
    const { hub } = this.options;
    const topic = podTopic(podId);
    // Subscribed first: once the claim stands, so does the subscription on every node ("registered" means reachable).
    hub.subscribe(ws, topic);
    const claim = await hub.claim(topic, proven ? PROVEN : "open", () => this.replaced(ws, podId)).catch((error) => {
      hub.unsubscribe(ws, topic);
      throw error;
    });
    if (ws.readyState !== 1) {
      hub.unsubscribe(ws, topic);
      return claim.release();
    }
    ws.data.role = "origin";
    ws.data.podId = podId;
    ws.data.claim = claim;
    if (proven) ws.data.proven = true;
    this.origins.set(podId, ws);
    send(ws, { t: "registered", podId });
    this.options.onOriginRegistered?.(podId);
  }

  /** Offers in flight went to the old origin: their visitors hear "origin offline" through their watch and retry. */
  private replaced(ws: SignalSocket, podId: string): void {
    this.options.hub.unsubscribe(ws, podTopic(podId));
    if (this.origins.get(podId) === ws) this.origins.delete(podId);
    ws.close(4001, "replaced by new origin");
  }

  private offer(ws: SignalSocket, m: Msg<"offer">, frame: string): void {
    const data = ws.data;
    if (data.role === "origin" || data.role === "registering") return send(ws, { t: "error", sessionId: m.sessionId, message: "wrong role" });
    const existing = this.sessions.get(m.sessionId);
    if (existing && (existing.visitor !== ws || existing.podId !== m.podId)) {
      return send(ws, { t: "error", sessionId: m.sessionId, message: "session id already in use" });
    }
    let session = existing;
    if (!session) {
      const mine = (data.sessions ??= new Set());
      if (mine.size >= this.options.maxSessionsPerSocket) this.pruneEnded(mine, ws);
      if (mine.size >= this.options.maxSessionsPerSocket) {
        this.refuseOffer("sessions_per_socket", m.podId);
        return send(ws, { t: "error", sessionId: m.sessionId, message: `too many sessions on this socket (limit ${this.options.maxSessionsPerSocket})` });
      }
      let ofPod = this.sessionsByPod.get(m.podId);
      if (ofPod && ofPod.ids.size >= this.options.maxSessionsPerPod) {
        this.refuseOffer("sessions_per_pod", m.podId);
        return send(ws, { t: "error", sessionId: m.sessionId, message: "pod busy: too many sessions being negotiated" });
      }
      data.role = "visitor";
      mine.add(m.sessionId);
      session = newSession(m.podId, m.sessionId, ws);
      this.sessions.set(m.sessionId, session);
      this.started++;
      this.observer.sessionStarted();
      // One watch per pod and node: when its origin goes (left, replaced, node died), its visitors here hear it.
      if (!ofPod) this.sessionsByPod.set(m.podId, (ofPod = { ids: new Set(), unwatch: this.options.hub.watch(session.toOrigin, () => this.endSessionsOfPod(m.podId)) }));
      ofPod.ids.add(m.sessionId);
      this.options.hub.subscribe(ws, session.toVisitor);
    }
    session.visitorLeft = this.budget.payFrom(data, session.visitorLeft);
    this.frames.offer.inc();
    this.options.hub.deliver(session.toOrigin, textForOrigin(m, frame), () => {
      // Visitors retry an offline origin in bursts: counted, not logged as a failed session each time.
      this.observer.offerRefused("origin_offline", m.podId);
      if (this.sessions.get(m.sessionId)?.visitor === ws) this.endSession(m.sessionId, "origin offline", null);
      else send(ws, { t: "error", sessionId: m.sessionId, message: "origin offline" });
    }, OFFERED + m.sessionId);
  }

  /** The visitor's node learns of the answer through the note (it ends the answer timeout). */
  private answer(ws: SignalSocket, m: Msg<"answer">, frame: string): void {
    if (!this.isOrigin(ws, m.sessionId)) return;
    this.frames.answer.inc();
    this.options.hub.deliver(sessionTopic(ws.data.podId!, m.sessionId), textForVisitor(m, frame), () => unknownSession(ws, m.sessionId), ANSWERED + m.sessionId);
  }

  private candidate(ws: SignalSocket, m: Msg<"candidate">, frame: string): void {
    this.frames.candidate.inc();
    if (ws.data.role === "origin") {
      this.budget.paySpare(ws.data);
      // A late candidate for a session whose visitor already left is normal trickle: dropped quietly.
      return this.options.hub.publish(sessionTopic(ws.data.podId!, m.sessionId), textForVisitor(m, frame));
    }
    const session = this.ownSessionOfVisitor(ws, m.sessionId);
    if (session) this.options.hub.publish(session.toOrigin, textForOrigin(m, frame));
  }

  private relayError(ws: SignalSocket, m: Msg<"error">, frame: string): void {
    const { sessionId } = m;
    if (sessionId === undefined) return send(ws, { t: "error", message: "error needs the sessionId it is about" });
    this.frames.error.inc();
    if (ws.data.role === "origin") {
      this.budget.paySpare(ws.data);
      return this.options.hub.deliver(sessionTopic(ws.data.podId!, sessionId), textForVisitor(m, frame), () => unknownSession(ws, sessionId), FAILED + sessionId);
    }
    const session = this.ownSessionOfVisitor(ws, sessionId);
    if (session) this.options.hub.publish(session.toOrigin, textForOrigin(m, frame));
  }

  /** An origin's frames about sessions are paid from the allowance its offers brought (see session.ts). */
  private isOrigin(ws: SignalSocket, sessionId: string): boolean {
    if (ws.data.role === "origin") {
      this.budget.paySpare(ws.data);
      return true;
    }
    send(ws, { t: "error", sessionId, message: "wrong role" });
    return false;
  }

  /** A visitor may only use sessions it opened itself. */
  private ownSessionOfVisitor(ws: SignalSocket, sessionId: string): Session | undefined {
    const session = this.sessions.get(sessionId);
    if (session && session.visitor === ws) {
      session.visitorLeft = this.budget.payFrom(ws.data, session.visitorLeft);
      return session;
    }
    send(ws, { t: "error", sessionId, message: ws.data.role === "none" ? "uninitialized socket: send an offer first" : "unknown session" });
    return undefined;
  }

  private onClose(ws: SignalSocket): void {
    const data = ws.data;
    const { hub } = this.options;
    // Releasing tells the pod's watchers, wherever they are, that its visitors' sessions are over.
    data.claim?.release();
    if (data.role === "origin" && data.podId !== undefined && this.origins.get(data.podId) === ws) {
      hub.unsubscribe(ws, podTopic(data.podId));
      this.origins.delete(data.podId);
      this.options.onOriginDisconnected?.(data.podId);
    } else if (data.role === "visitor" && data.sessions) {
      for (const sessionId of data.sessions) {
        const session = this.sessions.get(sessionId);
        if (session?.visitor !== ws) continue;
        if (!session.answered) this.observer.sessionFailed("visitor_left", session.podId, sessionId, session.openedAt);
        this.forgetSession(sessionId);
      }
    }
  }

  /** The pod's origin is gone: tells this node's visitors of it and frees their sessions. */
  private endSessionsOfPod(podId: string): void {
    const ofPod = this.sessionsByPod.get(podId);
    if (!ofPod) return;
    for (const sessionId of ofPod.ids) this.endSession(sessionId, "origin offline", "origin_offline");
  }

  /** Tells the visitor why its session ended and forgets it; an unanswered one counts as failed for `failure`. */
  private endSession(sessionId: string, message: string, failure: SessionFailure | null): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    if (failure && !session.answered) this.observer.sessionFailed(failure, session.podId, sessionId, session.openedAt);
    send(session.visitor, { t: "error", sessionId, message });
    this.forgetSession(sessionId);
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
      this.options.hub.publish(session.toOrigin, JSON.stringify({ t: "error", sessionId, message }));
      this.endSession(sessionId, message, "expired");
    }
  }

  private refuseOffer(limit: "sessions_per_socket" | "sessions_per_pod", podId: string): void {
    this.observer.refused(limit);
    this.observer.offerRefused("limit", podId);
  }

  /** Drops ids of sessions that ended (expired, origin gone) from a visitor's own list. */
  private pruneEnded(mine: Set<string>, ws: SignalSocket): void {
    for (const id of mine) if (this.sessions.get(id)?.visitor !== ws) mine.delete(id);
  }

  private forgetSession(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    // Its topic must not outlive it: a late answer is then an unknown session.
    this.options.hub.unsubscribe(session.visitor, session.toVisitor);
    const ofPod = this.sessionsByPod.get(session.podId);
    if (!ofPod?.ids.delete(sessionId) || ofPod.ids.size > 0) return;
    this.sessionsByPod.delete(session.podId);
    ofPod.unwatch();
  }
}

function unknownSession(ws: SignalSocket, sessionId: string): void {
  send(ws, { t: "error", sessionId, message: "unknown session" });
}

function send(ws: SignalSocket, message: ServerMessage): void {
  ws.send(JSON.stringify(message));
}
