import type { ClientMessage, ServerMessage } from "./protocol.ts";

/** Client messages the broker passes on to the other side. */
export type RelayedMessage = Exclude<ClientMessage, { t: "register" }>;

/**
 * The text relayed for a validated client message: `{t, sessionId, sdp|candidate|message}`,
 * without the visitor's podId.
 *
 * Escaping a 2 KB SDP again is the costliest step of a relay, so an offer or answer
 * written the way browsers and Hosts write it has its own text passed on (minus the
 * podId). Everything else is serialised anew. Either way no parser can read the result
 * differently from the broker: reused text holds each member exactly once (JSON.parse
 * keeps the last of duplicate keys, some parsers keep the first).
 */
export function relayText(m: RelayedMessage, frame: string): string {
  if (m.t === "offer" || m.t === "answer") {
    const rest = plainSdpFrameRest(m, frame);
    if (rest !== -1) return `{"t":"${m.t}",${frame.slice(rest)}`;
  }
  // Validated and holding just the three members, the parsed message serialises as it is.
  return JSON.stringify(memberCount(m) === 3 ? m : rebuilt(m));
}

function memberCount(m: object): number {
  let n = 0;
  for (const _ in m) n++;
  return n;
}

/**
 * For a frame that is exactly `{"t":"<t>",["podId":"<podId>",]"sessionId":"<id>","sdp":"<sdp>"}`
 * (the podId only on offers), with ids free of escapes and no quote in the sdp text, the
 * index where `"sessionId"` starts; otherwise -1. Such a frame holds no other member, no
 * duplicate and no escaped key, and its values are the ones the broker validated.
 */
function plainSdpFrameRest(m: Extract<RelayedMessage, { t: "offer" | "answer" }>, frame: string): number {
  const head = `{"t":"${m.t}",`;
  if (!frame.startsWith(head)) return -1;
  let at = head.length;
  if (m.t === "offer") {
    at = afterPlainMember(frame, at, '"podId":"', m.podId);
    if (at === -1) return -1;
  }
  const rest = at;
  at = afterPlainMember(frame, at, '"sessionId":"', m.sessionId);
  if (at === -1 || !frame.startsWith('"sdp":"', at)) return -1;
  // The sdp is the last member and one string literal: no quote until the closing one.
  const close = frame.indexOf('"', at + 7);
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
