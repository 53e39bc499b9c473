import type { Hub } from "../cluster/hub.ts";
import type { FrameBudget } from "../limits/frame-budget.ts";
import type { SessionFailure } from "../metrics/server-metrics.ts";
import type { ClientMessageOf } from "./protocol.ts";
import { newSession, type Session } from "./session.ts";
import type { SignalObserver } from "./signal-observer.ts";
import { send, type SignalSocket } from "./signal-socket.ts";

export interface VisitorSessionsOptions {
  hub: Hub;
  maxSessionsPerSocket: number;
  maxSessionsPerPod: number;
  /** A session with no answer by then is ended and both sides are told. */
  answerTimeoutMs: number;
}

/** The sessions this node's visitors opened with one pod, and the watch on its origin. */
interface PodSessions {
  ids: Set<string>;
  unwatch: () => void;
}

/**
 * The sessions this node's visitors opened: which visitor owns which, the caps per socket
 * and per pod, and how each ends (answered, expired, its origin gone, its visitor gone).
 * The origin's node keeps none of this.
 */
export class VisitorSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly sessionsByPod = new Map<string, PodSessions>();
  /** Sessions ever offered here (see Broker.sessionsStarted). */
  private started = 0;
  private readonly sweeper: Timer;

  constructor(
    private readonly options: VisitorSessionsOptions,
    private readonly observer: SignalObserver,
    private readonly budget: FrameBudget,
  ) {
    this.sweeper = setInterval(() => this.expireUnanswered(), Math.max(250, Math.min(options.answerTimeoutMs / 4, 5000)));
    this.sweeper.unref();
  }

  count(): number {
    return this.sessions.size;
  }

  startedCount(): number {
    return this.started;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  /**
   * The session an offer is on (opened if new and within the caps), with the offer paid
   * from its allowance; undefined once the visitor has been told why not.
   */
  offered(ws: SignalSocket, m: ClientMessageOf<"offer">): Session | undefined {
    const existing = this.sessions.get(m.sessionId);
    if (existing && (existing.visitor !== ws || existing.podId !== m.podId)) {
      send(ws, { t: "error", sessionId: m.sessionId, message: "session id already in use" });
      return undefined;
    }
    const session = existing ?? this.open(ws, m);
    if (session) session.visitorLeft = this.budget.payFrom(ws.data, session.visitorLeft);
    return session;
  }

  /** A visitor may only use sessions it opened itself; their frames are paid from the session's allowance. */
  ofVisitor(ws: SignalSocket, sessionId: string): Session | undefined {
    const session = this.sessions.get(sessionId);
    if (session && session.visitor === ws) {
      session.visitorLeft = this.budget.payFrom(ws.data, session.visitorLeft);
      return session;
    }
    send(ws, { t: "error", sessionId, message: ws.data.role === "none" ? "uninitialized socket: send an offer first" : "unknown session" });
    return undefined;
  }

  /** No origin took the offer. Visitors retry an offline origin in bursts: counted, not logged as a failed session each time. */
  originOffline(ws: SignalSocket, m: ClientMessageOf<"offer">): void {
    this.observer.offerRefused("origin_offline", m.podId);
    if (this.sessions.get(m.sessionId)?.visitor === ws) this.endSession(m.sessionId, "origin offline", null);
    else send(ws, { t: "error", sessionId: m.sessionId, message: "origin offline" });
  }

  /** The origin's answer, or its error, reached the session's visitor here: the first one settles the session. */
  originReplied(topic: string, sessionId: string, answered: boolean): void {
    const session = this.sessions.get(sessionId);
    if (session?.toVisitor !== topic || session.answered) return;
    if (answered) {
      session.answered = true;
      this.observer.sessionAnswered(session.openedAt);
    } else this.observer.sessionFailed("origin_error", session.podId, sessionId, session.openedAt);
  }

  /** The visitor's socket closed: its sessions are over, unanswered ones failed. */
  visitorClosed(ws: SignalSocket): void {
    const mine = ws.data.sessions;
    if (!mine) return;
    for (const sessionId of mine) {
      const session = this.sessions.get(sessionId);
      if (session?.visitor !== ws) continue;
      if (!session.answered) this.observer.sessionFailed("visitor_left", session.podId, sessionId, session.openedAt);
      this.forgetSession(sessionId);
    }
  }

  private open(ws: SignalSocket, m: ClientMessageOf<"offer">): Session | undefined {
    const { maxSessionsPerSocket, maxSessionsPerPod, hub } = this.options;
    const data = ws.data;
    const mine = (data.sessions ??= new Set());
    if (mine.size >= maxSessionsPerSocket) this.pruneEnded(mine, ws);
    if (mine.size >= maxSessionsPerSocket) {
      return this.refuseOffer(ws, m, "sessions_per_socket", `too many sessions on this socket (limit ${maxSessionsPerSocket})`);
    }
    let ofPod = this.sessionsByPod.get(m.podId);
    if (ofPod && ofPod.ids.size >= maxSessionsPerPod) return this.refuseOffer(ws, m, "sessions_per_pod", "pod busy: too many sessions being negotiated");
    data.role = "visitor";
    mine.add(m.sessionId);
    const session = newSession(m.podId, m.sessionId, ws);
    this.sessions.set(m.sessionId, session);
    this.started++;
    this.observer.sessionStarted();
    // One watch per pod and node: when its origin goes (left, replaced, node died), its visitors here hear it.
    if (!ofPod) this.sessionsByPod.set(m.podId, (ofPod = { ids: new Set(), unwatch: hub.watch(session.toOrigin, () => this.endSessionsOfPod(m.podId)) }));
    ofPod.ids.add(m.sessionId);
    hub.subscribe(ws, session.toVisitor);
    return session;
  }

  private refuseOffer(ws: SignalSocket, m: ClientMessageOf<"offer">, limit: "sessions_per_socket" | "sessions_per_pod", message: string): undefined {
    this.observer.refused(limit);
    this.observer.offerRefused("limit", m.podId);
    send(ws, { t: "error", sessionId: m.sessionId, message });
    return undefined;
  }

  /** Drops ids of sessions that ended (expired, origin gone) from a visitor's own list. */
  private pruneEnded(mine: Set<string>, ws: SignalSocket): void {
    for (const id of mine) if (this.sessions.get(id)?.visitor !== ws) mine.delete(id);
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
