// Options of the PeerJS server (`peer` 1.0 wire): where it is mounted, its key, and its bounds.
import { boolean, integer, positiveDuration, size } from "../config-values.ts";
import { flag } from "../flags.ts";

/** A path under the root such as /peerjs, or `off`. The root itself would shadow the console and the pods. */
export function peerjsPath(raw: string): string | "off" {
  if (raw.trim() === "off") return "off";
  if (!/^(\/[A-Za-z0-9._~-]+)+\/?$/.test(raw)) throw new Error("expected a path under the root such as /peerjs, or off");
  return raw.replace(/\/$/, "");
}

/** A key PeerJS clients pass as `key`: it names the id space. */
function peerjsKey(raw: string): string {
  if (!/^[A-Za-z0-9._~-]{1,64}$/.test(raw)) throw new Error("expected 1-64 characters of A-Z a-z 0-9 . _ ~ -");
  return raw;
}

export const PEERJS_FLAGS = {
  peerjsPath: flag({ flag: "--peerjs-path", env: ["GEMMAPOD_SIGNAL_PEERJS_PATH"], value: "PATH", help: "where PeerJS clients find the server (their `path` option); off disables it", parse: peerjsPath, default: "/peerjs" }),
  peerjsKey: flag({ flag: "--peerjs-key", env: ["GEMMAPOD_SIGNAL_PEERJS_KEY"], value: "KEY", help: "the PeerJS key clients must pass (their `key` option); ids are unique within it", parse: peerjsKey, default: "peerjs" }),
  peerjsDiscovery: flag({ flag: "--peerjs-discovery", env: ["GEMMAPOD_SIGNAL_PEERJS_DISCOVERY"], value: "BOOL", help: "GET <path>/<key>/peers lists the ids connected to this node (else 401)", parse: boolean, default: false }),
  peerjsMaxPeers: flag({ flag: "--peerjs-max-peers", env: ["GEMMAPOD_SIGNAL_PEERJS_MAX_PEERS"], value: "N", help: "PeerJS peers connected to this node at once; past it: ERROR, close", parse: integer(1, 10_000_000), default: 100_000 }),
  peerjsAliveTimeoutMs: flag({ flag: "--peerjs-alive-timeout", env: ["GEMMAPOD_SIGNAL_PEERJS_ALIVE_TIMEOUT"], value: "DURATION", help: "a PeerJS socket with no HEARTBEAT for this long is closed and its id freed", parse: positiveDuration, default: 60_000 }),
  peerjsExpireTimeoutMs: flag({ flag: "--peerjs-expire-timeout", env: ["GEMMAPOD_SIGNAL_PEERJS_EXPIRE_TIMEOUT"], value: "DURATION", help: "messages for an id nobody holds wait this long for it, then the sender gets EXPIRE", parse: positiveDuration, default: 5_000 }),
  peerjsMessageRate: flag({ flag: "--peerjs-message-rate", env: ["GEMMAPOD_SIGNAL_PEERJS_MESSAGE_RATE"], value: "N", help: "messages per second per PeerJS socket (burst twice that), plus --peerjs-partner-rate per peer it negotiates with", parse: integer(1, 1_000_000), default: 50 }),
  peerjsPartnerRate: flag({ flag: "--peerjs-partner-rate", env: ["GEMMAPOD_SIGNAL_PEERJS_PARTNER_RATE"], value: "N", help: "more messages per second for each peer a PeerJS socket sent an OFFER or ANSWER to in the last 30 s", parse: integer(0, 1_000_000), default: 20 }),
  peerjsQueueMessages: flag({ flag: "--peerjs-queue-messages", env: ["GEMMAPOD_SIGNAL_PEERJS_QUEUE_MESSAGES"], value: "N", help: "messages waiting for one offline id on this node; past it the sender gets EXPIRE at once", parse: integer(1, 1_000_000), default: 256 }),
  peerjsQueueBytes: flag({ flag: "--peerjs-queue-bytes", env: ["GEMMAPOD_SIGNAL_PEERJS_QUEUE_BYTES"], value: "SIZE", help: "bytes of messages waiting for offline ids on this node, in all (each counts 256 bytes more)", parse: size(64 * 1024, 4 * 1024 ** 3), default: 32 * 1024 * 1024 }),
};
