// The PeerJS wire as `peer` 1.0 speaks it and the `peerjs` client expects it:
// JSON text frames, `{type, dst, payload}` from a client, the same with `src`
// from the server. The error strings are the reference's, word for word: apps
// match on them.

/** Client messages the server passes on to `dst`, with `src` set by the server. */
export const FORWARDED = ["OFFER", "ANSWER", "CANDIDATE", "LEAVE", "EXPIRE"] as const;
export type ForwardedType = (typeof FORWARDED)[number];
/** Every type a client sends that the server acts on (metrics label them). */
export const CLIENT_TYPES = [...FORWARDED, "HEARTBEAT"] as const;

/** The admission errors, in the order the reference checks them. */
export const ADMISSION_ERRORS = {
  missingParameters: "No id, token, or key supplied to websocket server",
  invalidKey: "Invalid key provided",
  peerLimit: "Server has reached its concurrent user limit",
} as const;

/** Ids and tokens are names in the cluster and keys of maps: bounded, and free of control characters. */
const MAX_ID_CHARS = 256;
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;

export function validId(id: string): boolean {
  return id.length <= MAX_ID_CHARS && PRINTABLE.test(id);
}

export const INVALID_ID = `ID must be 1-${MAX_ID_CHARS} printable characters`;

export type ClientMessage =
  | { type: "HEARTBEAT" }
  | { type: ForwardedType; dst: string; payload: unknown }
  /** LEAVE without a destination: this peer leaves the server (the reference frees its id). */
  | { type: "LEAVE"; dst: undefined }
  /** A type the server does not know: ignored, as the reference does. */
  | { type: "unknown" };

export type Parsed = { ok: true; message: ClientMessage } | { ok: false; error: string };

const FORWARDED_SET: ReadonlySet<string> = new Set(FORWARDED);

export function parseClientMessage(frame: string): Parsed {
  let m: unknown;
  try {
    m = JSON.parse(frame);
  } catch {
    return { ok: false, error: "invalid JSON: a message is a JSON object {type, dst, payload}" };
  }
  if (typeof m !== "object" || m === null || Array.isArray(m)) return { ok: false, error: "a message is a JSON object {type, dst, payload}" };
  const { type, dst, payload } = m as Record<string, unknown>;
  if (typeof type !== "string") return { ok: false, error: "type must be a string" };
  if (type === "HEARTBEAT") return { ok: true, message: { type } };
  if (!FORWARDED_SET.has(type)) return { ok: true, message: { type: "unknown" } };
  if (dst === undefined && type === "LEAVE") return { ok: true, message: { type, dst } };
  if (typeof dst !== "string" || dst === "" || !validId(dst)) return { ok: false, error: `${type} needs dst: the id of a peer` };
  return { ok: true, message: { type: type as ForwardedType, dst, payload } };
}

/** What `dst` receives: the message as the reference forwards it, with `src` set by us. */
export function forwardedText(type: ForwardedType, src: string, dst: string, payload: unknown): string {
  return JSON.stringify({ type, src, dst, payload });
}

export const OPEN_TEXT = JSON.stringify({ type: "OPEN" });
export const ID_TAKEN_TEXT = JSON.stringify({ type: "ID-TAKEN", payload: { msg: "ID is taken" } });

export function errorText(msg: string): string {
  return JSON.stringify({ type: "ERROR", payload: { msg } });
}

/** Told to a sender whose messages for `dst` found nobody in time; the client shows `peer-unavailable`. */
export function expireText(dst: string, sender: string): string {
  return JSON.stringify({ type: "EXPIRE", src: dst, dst: sender });
}
