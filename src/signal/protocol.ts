// The GemmaPod signaling wire format (JSON text frames on WS /signal), as spoken
// by @gemmapod/signal 0.2.x, GemmaPod Host 0.6 and the browser shim.

import { jsonObject } from "../http/json-frame.ts";

export interface IceCandidateJson {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** Messages a client may send. */
export type ClientMessage =
  | { t: "register"; podId: string; ownerToken?: string }
  | { t: "offer"; podId: string; sessionId: string; sdp: string }
  | { t: "answer"; sessionId: string; sdp: string }
  | { t: "candidate"; sessionId: string; candidate: IceCandidateJson; podId?: string }
  | { t: "error"; sessionId?: string; message: string };

/** The client message of type `T`, e.g. `ClientMessageOf<"offer">`. */
export type ClientMessageOf<T extends ClientMessage["t"]> = Extract<ClientMessage, { t: T }>;

/** Messages the broker sends. */
export type ServerMessage =
  /** Sent on open; an origin signs the nonce to prove its owner key (see identity/owner-token.ts). */
  | { t: "challenge"; nonce: string }
  | { t: "registered"; podId: string }
  | { t: "offer"; sessionId: string; sdp: string }
  | { t: "answer"; sessionId: string; sdp: string }
  | { t: "candidate"; sessionId: string; candidate: IceCandidateJson }
  | { t: "error"; sessionId?: string; message: string };

/** Any signaling message, either direction (the reference's `SignalMsg`). */
export type SignalMsg = ClientMessage | ServerMessage;

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; error: string; sessionId?: string };

/** Ids are opaque to us but end up in topic names and logs: keep them short and printable. */
const MAX_ID_LENGTH = 256;

/** Validates one text frame. Never throws: hostile input becomes an error result. */
export function parseClientMessage(text: string): ParseResult {
  const m = jsonObject(text);
  if (typeof m === "string") return { ok: false, error: m };
  // Runs once per relayed frame: no closures or temporaries on the success path.
  const error = problemWith(m);
  if (error === null) return { ok: true, message: m as ClientMessage };
  return { ok: false, error, sessionId: isId(m.sessionId) ? m.sessionId : undefined };
}

/** What is wrong with a decoded frame, or null if it is a valid client message. */
function problemWith(m: Record<string, unknown>): string | null {
  switch (m.t) {
    case "register":
      if (!isId(m.podId)) return "register needs a podId string";
      if (m.ownerToken !== undefined && typeof m.ownerToken !== "string") return "ownerToken must be a string";
      return null;
    case "offer":
      if (!isId(m.podId)) return "offer needs a podId string";
      if (!isId(m.sessionId)) return "offer needs a sessionId string";
      if (typeof m.sdp !== "string") return "offer needs an sdp string";
      return null;
    case "answer":
      if (!isId(m.sessionId)) return "answer needs a sessionId string";
      if (typeof m.sdp !== "string") return "answer needs an sdp string";
      return null;
    case "candidate":
      if (!isId(m.sessionId)) return "candidate needs a sessionId string";
      if (!isCandidate(m.candidate)) return "candidate needs a candidate object with a candidate string";
      if (m.podId !== undefined && !isId(m.podId)) return "podId must be a string";
      return null;
    case "error":
      if (typeof m.message !== "string") return "error needs a message string";
      if (m.sessionId !== undefined && !isId(m.sessionId)) return "sessionId must be a string";
      return null;
    case undefined:
      return "message needs a string field t";
    default:
      return typeof m.t === "string" ? `unknown message type ${JSON.stringify(m.t.slice(0, 32))}` : "t must be a string";
  }
}

function isId(v: unknown): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= MAX_ID_LENGTH;
}

/** An RTCIceCandidateInit as JSON: a candidate string and the optional members, typed right. */
export function isCandidate(v: unknown): v is IceCandidateJson {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.candidate === "string" &&
    (c.sdpMid === undefined || c.sdpMid === null || typeof c.sdpMid === "string") &&
    (c.sdpMLineIndex === undefined || c.sdpMLineIndex === null || typeof c.sdpMLineIndex === "number") &&
    (c.usernameFragment === undefined || c.usernameFragment === null || typeof c.usernameFragment === "string")
  );
}
