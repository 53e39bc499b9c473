import { podTopic, sessionTopic } from "./router.ts";

/**
 * Frames each side of a session may send on the session's allowance rather than the
 * socket's flat rate: its offer or answer, up to 32 ICE candidates (a Host with several
 * interfaces and STUN servers trickles 10-20) and a couple of errors.
 */
export const SESSION_FRAMES = 1 + 32 + 2;
/** Leftover allowance an origin keeps for late candidates of sessions whose visitor left. */
export const SPARE_FRAMES = 32 * SESSION_FRAMES;

/** A visitor's offer to a pod's origin, from the offer until the visitor leaves (or it expires unanswered). */
export interface Session {
  podId: string;
  /** Topics to reach the visitor and the origin, built once rather than per relayed frame. */
  toVisitor: string;
  toOrigin: string;
  /** `SocketData.id` of the visitor that opened it. */
  visitorId: number;
  /** performance.now() at the offer; sessions are kept in this order. */
  openedAt: number;
  answered: boolean;
  /** Frames each side may still send on this session's allowance (see SESSION_FRAMES). */
  originLeft: number;
  visitorLeft: number;
}

export function newSession(podId: string, sessionId: string, visitorId: number): Session {
  return {
    podId,
    toVisitor: sessionTopic(sessionId),
    toOrigin: podTopic(podId),
    visitorId,
    openedAt: performance.now(),
    answered: false,
    originLeft: SESSION_FRAMES,
    visitorLeft: SESSION_FRAMES,
  };
}
