// Options of `/.webrtc` rooms and the ICE servers handed to peers (TURN credentials, the STUN port).
import { integer, duration, secret, iceUrls } from "../config-values.ts";
import { flag } from "../flags.ts";

export const PEER_FLAGS = {
  maxPeersPerRoom: flag({ flag: "--max-peers-per-room", env: ["GEMMAPOD_SIGNAL_MAX_PEERS_PER_ROOM"], value: "N", help: "peers in one /.webrtc room; past it: error, close 1008", parse: integer(2, 1_000_000), default: 1000 }),
  maxRoomsPerKey: flag({ flag: "--max-rooms-per-key", env: ["GEMMAPOD_SIGNAL_MAX_ROOMS_PER_KEY"], value: "N", help: "/.webrtc rooms one key may be in at once", parse: integer(1, 100_000), default: 16 }),
  peerMessageRate: flag({ flag: "--peer-message-rate", env: ["GEMMAPOD_SIGNAL_PEER_MESSAGE_RATE"], value: "N", help: "messages per second per /.webrtc socket (burst twice that), plus --peer-partner-rate per peer it negotiates with", parse: integer(1, 1_000_000), default: 50 }),
  peerPartnerRate: flag({ flag: "--peer-partner-rate", env: ["GEMMAPOD_SIGNAL_PEER_PARTNER_RATE"], value: "N", help: "more messages per second for each peer a socket sent an offer or answer to in the last 30 s", parse: integer(0, 1_000_000), default: 20 }),
  peerAuthTimeoutMs: flag({ flag: "--peer-auth-timeout", env: ["GEMMAPOD_SIGNAL_PEER_AUTH_TIMEOUT"], value: "MS", help: "a /.webrtc socket not signed in by then gets an error and close 4003", parse: integer(100, 600_000), default: 10_000 }),
  turnUrls: flag({ flag: "--turn-url", env: ["GEMMAPOD_SIGNAL_TURN_URL", "TURN_URL"], value: "URLS", help: "TURN server(s) handed to peers with short-lived credentials: turn:host:3478[,turns:host:5349]", parse: iceUrls, default: [] }),
  turnSecret: flag<string | undefined>({ flag: "--turn-secret", env: ["GEMMAPOD_SIGNAL_TURN_SECRET", "TURN_SECRET"], value: "SECRET", help: "the TURN server's static-auth-secret (coturn use-auth-secret)", parse: secret, default: undefined }),
  turnTtlMs: flag({ flag: "--turn-ttl", env: ["GEMMAPOD_SIGNAL_TURN_TTL"], value: "DURATION", help: "lifetime of the TURN credentials handed out, e.g. 1h", parse: duration, default: 3_600_000 }),
  stunPort: flag({ flag: "--stun-port", env: ["GEMMAPOD_SIGNAL_STUN_PORT"], value: "N", help: "UDP port answering STUN Binding requests, on --hostname (0 = off)", parse: integer(0, 65535), default: 0 }),
};
