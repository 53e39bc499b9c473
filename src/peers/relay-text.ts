import type { Relayed, RelayRequest } from "./protocol.ts";

/**
 * The text the addressed peer receives: `from` set by us, `to` and every other
 * member dropped. Escaping a 2 KB SDP again is most of a relay's cost, so an
 * offer or answer written exactly as `{"type":…,"to":"<key>","sdp":"…"}` (as our
 * client writes it) keeps its SDP text; anything else is rebuilt from what was checked.
 */
export function relayedText(m: RelayRequest, from: string, frame: string): string {
  if (m.type === "offer" || m.type === "answer") {
    const sdpAt = plainSdpStart(m.type, frame);
    if (sdpAt !== -1) return `{"type":"${m.type}","from":"${from}",${frame.slice(sdpAt)}`;
  }
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
