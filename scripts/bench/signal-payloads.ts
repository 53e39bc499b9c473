// Signaling frames shaped like a browser's: an offer carrying a ~2.2 KB SDP,
// an answer of similar size, and ICE candidates trickled four each way.
// Addresses are from the documentation ranges; nothing here is dialled.

export const CANDIDATES_EACH_WAY = 4;
/** Frames the server relays for one session: offer + answer + the candidates both ways. */
export const RELAYED_PER_SESSION = 2 + 2 * CANDIDATES_EACH_WAY;

function sdp(role: "offer" | "answer", ufrag: string): string {
  const lines = [
    "v=0",
    `o=- 4611731400430051336 2 IN IP4 127.0.0.1`,
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0",
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 0.0.0.0",
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${ufrag}Zq8v3k1mXbT0pLrW7yHn2sFd`,
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 3B:7E:91:0C:5D:A2:44:F8:19:6B:E0:C7:2F:83:DA:55:0E:B9:71:16:4C:A8:3D:F2:60:9B:E4:27:C1:5A:8D:03",
    `a=setup:${role === "offer" ? "actpass" : "active"}`,
    "a=mid:0",
    "a=sctp-port:5000",
    "a=max-message-size:262144",
  ];
  // Candidates gathered before the offer was sent ride inside the SDP.
  for (let i = 0; lines.join("\r\n").length < 2200; i++) {
    lines.push(
      `a=candidate:${1_000_000 + i * 7919} 1 udp ${2_122_260_223 - i} 192.0.2.${(i % 250) + 1} ${50_000 + i} typ host generation 0 network-id ${i + 1} network-cost 10`,
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}

const OFFER_SDP_JSON = JSON.stringify(sdp("offer", "vIs1"));
const ANSWER_SDP_JSON = JSON.stringify(sdp("answer", "oRg1"));

function candidateJson(i: number, ufrag: string): string {
  return JSON.stringify({
    candidate: `candidate:${3_000_000 + i} 1 udp 1686052607 203.0.113.${i + 10} ${40_000 + i} typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag ${ufrag} network-id 1 network-cost 10`,
    sdpMid: "0",
    sdpMLineIndex: 0,
    usernameFragment: ufrag,
  });
}

const VISITOR_CANDIDATES = Array.from({ length: CANDIDATES_EACH_WAY }, (_, i) => candidateJson(i, "vIs1"));
const ORIGIN_CANDIDATES = Array.from({ length: CANDIDATES_EACH_WAY }, (_, i) => candidateJson(i + 100, "oRg1"));

// Frames are assembled from pre-serialised parts so the load generator spends
// its CPU on sockets, not on JSON.stringify.
export const frames = {
  register: (podId: string) => `{"t":"register","podId":"${podId}"}`,
  offer: (podId: string, sessionId: string) => `{"t":"offer","podId":"${podId}","sessionId":"${sessionId}","sdp":${OFFER_SDP_JSON}}`,
  answer: (sessionId: string) => `{"t":"answer","sessionId":"${sessionId}","sdp":${ANSWER_SDP_JSON}}`,
  visitorCandidates: (podId: string, sessionId: string) =>
    VISITOR_CANDIDATES.map((c) => `{"t":"candidate","podId":"${podId}","sessionId":"${sessionId}","candidate":${c}}`),
  originCandidates: (sessionId: string) => ORIGIN_CANDIDATES.map((c) => `{"t":"candidate","sessionId":"${sessionId}","candidate":${c}}`),
};

/** Size in bytes of the offer frame's SDP, for the report. */
export const OFFER_SDP_BYTES = JSON.parse(OFFER_SDP_JSON).length as number;

/** The same payloads as /.webrtc frames, in the order our peer client writes them. */
export const peerFrames = {
  offer: (to: string) => `{"type":"offer","to":"${to}","sdp":${OFFER_SDP_JSON}}`,
  answer: (to: string) => `{"type":"answer","to":"${to}","sdp":${ANSWER_SDP_JSON}}`,
  candidates: (to: string, side: "caller" | "callee") => (side === "caller" ? VISITOR_CANDIDATES : ORIGIN_CANDIDATES).map((c) => `{"type":"candidate","to":"${to}","candidate":${c}}`),
};
