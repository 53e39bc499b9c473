import { podTopic, sessionTopic } from "../cluster/hub.ts";
import type { SignalSocket } from "./signal-socket.ts";

/**
 * Frames each side of a session may send on the session's allowance rather than the
 * socket's flat rate: its offer or answer, up to 32 ICE candidates (a Host with several
 * interfaces and STUN servers trickles 10-20) and a couple of errors.
 */
export const SESSION_FRAMES = 1 + 32 + 2;
/**
 * An origin's allowance is a pool, filled by every offer delivered to it (on whatever node
 * the visitor is) and spent by its answers, candidates and errors; this caps what it keeps.
 */
export const ORIGIN_POOL_FRAMES = 32 * SESSION_FRAMES;

/** A visitor's session, kept on the visitor's node only: the origin's node keeps nothing per session. */
export interface Session {
  podId: string;
  /** Topics to reach the visitor and the origin, built once rather than per relayed frame. */
  toVisitor: string;
  toOrigin: string;
  /** The visitor that opened it. */
  visitor: SignalSocket;
  /** performance.now() at the offer; sessions are kept in this order. */
  openedAt: number;
  answered: boolean;
  /** Frames the visitor may still send on this session's allowance (see SESSION_FRAMES). */
  visitorLeft: number;
}

export function newSession(podId: string, sessionId: string, visitor: SignalSocket): Session {
  return {
    podId,
    toVisitor: sessionTopic(podId, sessionId),
    toOrigin: podTopic(podId),
    visitor,
    openedAt: performance.now(),
    answered: false,
    visitorLeft: SESSION_FRAMES,
  };
}
