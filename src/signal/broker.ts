import type { SocketHandlers } from "../http/websockets.ts";
import { parseClientMessage, type ClientMessageOf } from "./protocol.ts";
import { podTopic, sessionTopic } from "../cluster/hub.ts";
import type { SocketData } from "./socket-data.ts";
import { textOverLimit } from "../limits/frame-size.ts";
import { textForOrigin, textForVisitor } from "./relay-text.ts";
import { SignalObserver } from "./signal-observer.ts";
import { FrameBudget } from "../limits/frame-budget.ts";
import { ORIGIN_POOL_FRAMES, SESSION_FRAMES } from "./session.ts";
import { send, type SignalSocket } from "./signal-socket.ts";
import { OriginRegistration, type OriginRegistrationOptions } from "./origin-registration.ts";
import { VisitorSessions, type VisitorSessionsOptions } from "./visitor-sessions.ts";

export interface BrokerOptions extends OriginRegistrationOptions, VisitorSessionsOptions {
  maxMessageBytes: number;
  /** Messages per second per socket; bursts of twice that. */
  messageRate: number;
  /** Metrics and logs of sessions and limits; a detached one if not given. */
  observer?: SignalObserver;
}

/** Notes on what reached a socket: `OFFERED + sessionId` (to an origin), `ANSWERED` or `FAILED + sessionId` (to a visitor). */
const OFFERED = "o";
const ANSWERED = "a";
const FAILED = "e";

/**
 * Relays offers, answers, candidates and errors between a pod's origin and its
 * visitors. Who-may-talk-to-whom is checked here; delivery and ownership go through the hub.
 * Sessions live on the visitor's node; an origin answers on its own pod's session topics,
 * so it needs no lookup and can reach no other pod's visitors.
 */
export class Broker {
  private readonly origins: OriginRegistration;
  private readonly sessions: VisitorSessions;
  private readonly observer: SignalObserver;
  private readonly frames: SignalObserver["frames"];
  private readonly budget: FrameBudget;

  constructor(private readonly options: BrokerOptions) {
    this.budget = new FrameBudget(options.messageRate, ORIGIN_POOL_FRAMES);
    this.observer = options.observer ?? SignalObserver.detached();
    this.frames = this.observer.frames;
    this.origins = new OriginRegistration(options, this.observer.log);
    this.sessions = new VisitorSessions(options, this.observer, this.budget);
    // Notes say what reached a socket here: an offer (the origin's allowance grows), or an
    // origin's answer or error (the visitor's session is answered, or failed).
    options.hub.onNote((topic, note) => {
      // Every protocol hears every note: only those on this broker's pod and session topics are its own.
      if (topic[1] !== ":" || (topic[0] !== "p" && topic[0] !== "s")) return;
      if (note[0] !== OFFERED) return this.sessions.originReplied(topic, note.slice(1), note[0] === ANSWERED);
      const origin = this.origins.originOf(topic.slice(2));
      if (origin) this.budget.spill(origin.data, SESSION_FRAMES);
    });
  }

  originPodIds(): string[] {
    return this.origins.podIds();
  }

  originCount(): number {
    return this.origins.count();
  }

  sessionCount(): number {
    return this.sessions.count();
  }

  /** Sessions ever offered here; the console samples it for its sessions-per-second graph. */
  sessionsStarted(): number {
    return this.sessions.startedCount();
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
    this.sessions.stop();
    this.origins.closeAll();
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
        return this.origins.register(ws, m);
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

  private offer(ws: SignalSocket, m: ClientMessageOf<"offer">, frame: string): void {
    const role = ws.data.role;
    if (role === "origin" || role === "registering") return send(ws, { t: "error", sessionId: m.sessionId, message: "wrong role" });
    const session = this.sessions.offered(ws, m);
    if (!session) return;
    this.frames.offer.inc();
    this.options.hub.deliver(session.toOrigin, textForOrigin(m, frame), () => this.sessions.originOffline(ws, m), OFFERED + m.sessionId);
  }

  /** The visitor's node learns of the answer through the note (it ends the answer timeout). */
  private answer(ws: SignalSocket, m: ClientMessageOf<"answer">, frame: string): void {
    if (!this.isOrigin(ws, m.sessionId)) return;
    this.frames.answer.inc();
    this.options.hub.deliver(sessionTopic(ws.data.podId!, m.sessionId), textForVisitor(m, frame), () => unknownSession(ws, m.sessionId), ANSWERED + m.sessionId);
  }

  private candidate(ws: SignalSocket, m: ClientMessageOf<"candidate">, frame: string): void {
    this.frames.candidate.inc();
    if (ws.data.role === "origin") {
      this.budget.paySpare(ws.data);
      // A late candidate for a session whose visitor already left is normal trickle: dropped quietly.
      return this.options.hub.publish(sessionTopic(ws.data.podId!, m.sessionId), textForVisitor(m, frame));
    }
    const session = this.sessions.ofVisitor(ws, m.sessionId);
    if (session) this.options.hub.publish(session.toOrigin, textForOrigin(m, frame));
  }

  private relayError(ws: SignalSocket, m: ClientMessageOf<"error">, frame: string): void {
    const { sessionId } = m;
    if (sessionId === undefined) return send(ws, { t: "error", message: "error needs the sessionId it is about" });
    this.frames.error.inc();
    if (ws.data.role === "origin") {
      this.budget.paySpare(ws.data);
      return this.options.hub.deliver(sessionTopic(ws.data.podId!, sessionId), textForVisitor(m, frame), () => unknownSession(ws, sessionId), FAILED + sessionId);
    }
    const session = this.sessions.ofVisitor(ws, sessionId);
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

  private onClose(ws: SignalSocket): void {
    this.origins.socketClosed(ws);
    if (ws.data.role === "visitor") this.sessions.visitorClosed(ws);
  }
}

function unknownSession(ws: SignalSocket, sessionId: string): void {
  send(ws, { t: "error", sessionId, message: "unknown session" });
}
