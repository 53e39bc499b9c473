import type { Relayed, RelayRequest } from "./protocol.ts";

/**
 * The text the addressed peer receives: `from` set by us, `to` and every other
 * member dropped. Serialising is most of a relay's own cost, so a frame written
 * exactly as our client writes it (`{"type":…,"to":"<key>",<payload>}` and
 * nothing else) keeps its payload text; anything else is rebuilt from what was
 * checked. A duplicate key left in kept text could only mislead the addressed
 * peer, whose parser reads it as ours did (the last one wins).
 */
export function relayedText(m: RelayRequest, from: string, frame: string): string {
  const at = m.type === "hangup" ? -1 : m.type === "candidate" ? plainCandidateStart(m, frame) : plainSdpStart(m.type, frame);
  if (at !== -1) return `{"type":"${m.type}","from":"${from}",${frame.slice(at)}`;
  return JSON.stringify(rebuilt(m, from));
}

function rebuilt(m: RelayRequest, from: string): Relayed {
  switch (m.type) {
    case "offer":
    case "answer":
      return { type: m.type, from, sdp: m.sdp };
    case "candidate": {
      const { candidate, sdpMid, sdpMLineIndex, usernameFragment } = m.candidate;
      return { type: "candidate", from, candidate: { candidate, sdpMid, sdpMLineIndex, usernameFragment } };
    }
    case "hangup":
      return { type: "hangup", from };
  }
}

const KEY_LENGTH = 64;
const CANDIDATE_MEMBERS = new Set(["candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"]);

/**
 * Where `"sdp":` starts in a frame that is exactly `{"type":"<type>","to":"<64 chars>","sdp":"<text>"}`
 * with no quote inside the SDP text, else -1. Such a frame has no other member and
 * no duplicate, so its values are the ones the parser checked.
 */
function plainSdpStart(type: string, frame: string): number {
  const head = `{"type":"${type}","to":"`;
  const sdpAt = head.length + KEY_LENGTH + 2;
  if (!frame.startsWith(head) || !frame.startsWith('","sdp":"', sdpAt - 2)) return -1;
  const close = frame.indexOf('"', sdpAt + 7);
  return close === frame.length - 2 && frame.charCodeAt(close + 1) === 125 /* } */ ? sdpAt : -1;
}

/**
 * Where `"candidate":` starts in a frame that is exactly
 * `{"type":"candidate","to":"<64 chars>","candidate":{…}}` whose candidate holds
 * only the four known members, else -1. The checked members are strings, numbers
 * or null, so the object's first `}` closes it, unless one sits inside a string;
 * either way, a first `}` just before the frame's last means nothing follows the candidate.
 */
function plainCandidateStart(m: Extract<RelayRequest, { type: "candidate" }>, frame: string): number {
  const head = '{"type":"candidate","to":"';
  const at = head.length + KEY_LENGTH + 2;
  if (!frame.startsWith(head) || !frame.startsWith('","candidate":{', at - 2)) return -1;
  if (frame.indexOf("}", at) !== frame.length - 2 || frame.charCodeAt(frame.length - 1) !== 125 /* } */) return -1;
  for (const member in m.candidate) if (!CANDIDATE_MEMBERS.has(member)) return -1;
  return at;
}
