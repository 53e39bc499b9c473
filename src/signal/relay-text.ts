import type { ClientMessage, ServerMessage } from "./protocol.ts";

/** Client messages the broker passes on to the other side. */
export type RelayedMessage = Exclude<ClientMessage, { t: "register" }>;

// Relayed text is `{t, sessionId, sdp|candidate|message}` (never the visitor's podId).
// Serialising is the costliest step of a relay, so a client's own text is passed on
// where that is safe. JSON.parse keeps the last of duplicate keys and some parsers keep
// the first, so the question is who could be misled by a frame read two ways.

/**
 * Text for a session's visitor, from the pod's origin. Only that visitor receives it,
 * on the topic the broker chose, so a frame with exactly the three members is passed
 * on as it came: duplicate keys in it could mislead no one but the sender's own peer.
 */
export function textForVisitor(m: RelayedMessage, frame: string): string {
  return memberCount(m) === 3 ? frame : JSON.stringify(rebuilt(m));
}

/**
 * Text for a pod's origin, from a visitor. The origin tells many visitors' sessions
 * apart by `sessionId`, so it must read exactly what the broker checked: an offer
 * written the way browsers write it is reused minus its podId (its 2 KB SDP is not
 * escaped again), anything else is serialised anew.
 */
export function textForOrigin(m: RelayedMessage, frame: string): string {
  if (m.t === "offer") {
    const rest = plainOfferRest(m, frame);
    if (rest !== -1) return `{"t":"offer",${frame.slice(rest)}`;
  }
  // Validated and holding just the three members, the parsed message serialises as it is.
  return JSON.stringify(memberCount(m) === 3 ? m : rebuilt(m));
}

/**
 * For a frame that is exactly `{"t":"offer","podId":"<podId>","sessionId":"<id>","sdp":"<sdp>"}`,
 * with ids free of escapes and no quote in the sdp text, the index where `"sessionId"`
 * starts; otherwise -1. Such a frame holds no other member, no duplicate and no escaped
 * key, and its values are the ones the broker validated.
 */
function plainOfferRest(m: Extract<RelayedMessage, { t: "offer" }>, frame: string): number {
  const head = '{"t":"offer",';
  if (!frame.startsWith(head)) return -1;
  const rest = afterPlainMember(frame, head.length, '"podId":"', m.podId);
  const sdpAt = rest === -1 ? -1 : afterPlainMember(frame, rest, '"sessionId":"', m.sessionId);
  if (sdpAt === -1 || !frame.startsWith('"sdp":"', sdpAt)) return -1;
  // The sdp is the last member and one string literal: no quote until the closing one.
  const close = frame.indexOf('"', sdpAt + 7);
  return close === frame.length - 2 && frame.charCodeAt(close + 1) === 125 /* } */ ? rest : -1;
}

/** Past `<key><value>",` at `at` when the text there is exactly that value; else -1. */
function afterPlainMember(frame: string, at: number, key: string, value: string): number {
  // A value without backslash or quote is written as itself, so the quote after it closes it.
  if (!frame.startsWith(key, at) || value.includes("\\") || value.includes('"')) return -1;
  const start = at + key.length;
  const end = start + value.length;
  return frame.startsWith(value, start) && frame.charCodeAt(end) === 34 /* " */ && frame.charCodeAt(end + 1) === 44 /* , */ ? end + 2 : -1;
}

function memberCount(m: object): number {
  let n = 0;
  for (const _ in m) n++;
  return n;
}

function rebuilt(m: RelayedMessage): ServerMessage {
  switch (m.t) {
    case "offer":
    case "answer":
      return { t: m.t, sessionId: m.sessionId, sdp: m.sdp };
    case "candidate":
      return { t: "candidate", sessionId: m.sessionId, candidate: m.candidate };
    case "error":
      return { t: "error", sessionId: m.sessionId, message: m.message };
  }
}
