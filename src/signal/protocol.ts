// The GemmaPod signaling wire format (JSON text frames on WS /signal), as spoken
// by @gemmapod/signal 0.2.x, GemmaPod Host 0.6 and the browser shim.

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

/** Messages the broker sends. */
export type ServerMessage =
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
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: "invalid json" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: "message must be a JSON object" };
  }
  const m = value as Record<string, unknown>;
  const sessionId = typeof m.sessionId === "string" && isId(m.sessionId) ? m.sessionId : undefined;
  const fail = (error: string): ParseResult => ({ ok: false, error, sessionId });

  switch (m.t) {
    case "register":
      if (!isId(m.podId)) return fail("register needs a podId string");
      if (m.ownerToken !== undefined && typeof m.ownerToken !== "string") return fail("ownerToken must be a string");
      return { ok: true, message: m as ClientMessage };
    case "offer":
      if (!isId(m.podId)) return fail("offer needs a podId string");
      if (!sessionId) return fail("offer needs a sessionId string");
      if (typeof m.sdp !== "string") return fail("offer needs an sdp string");
      return { ok: true, message: m as ClientMessage };
    case "answer":
      if (!sessionId) return fail("answer needs a sessionId string");
      if (typeof m.sdp !== "string") return fail("answer needs an sdp string");
      return { ok: true, message: m as ClientMessage };
    case "candidate":
      if (!sessionId) return fail("candidate needs a sessionId string");
      if (!isCandidate(m.candidate)) return fail("candidate needs a candidate object with a candidate string");
      if (m.podId !== undefined && !isId(m.podId)) return fail("podId must be a string");
      return { ok: true, message: m as ClientMessage };
    case "error":
      if (typeof m.message !== "string") return fail("error needs a message string");
      if (m.sessionId !== undefined && !sessionId) return fail("sessionId must be a string");
      return { ok: true, message: m as ClientMessage };
    case undefined:
      return fail("message needs a string field t");
    default:
      return fail(typeof m.t === "string" ? `unknown message type ${JSON.stringify(m.t.slice(0, 32))}` : "t must be a string");
  }
}

function isId(v: unknown): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= MAX_ID_LENGTH;
}

function isCandidate(v: unknown): v is IceCandidateJson {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.candidate === "string" &&
    (c.sdpMid === undefined || c.sdpMid === null || typeof c.sdpMid === "string") &&
    (c.sdpMLineIndex === undefined || c.sdpMLineIndex === null || typeof c.sdpMLineIndex === "number") &&
    (c.usernameFragment === undefined || c.usernameFragment === null || typeof c.usernameFragment === "string")
  );
}
