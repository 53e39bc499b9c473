// Options of the WebSocket tracker (`WS /announce`) that WebTorrent, Trystero and p2p-media-loader use.
import { integer, size } from "../config-values.ts";
import { flag } from "../flags.ts";

/** `off`, or a websocket path such as /announce. */
function trackerPath(raw: string): string | null {
  if (raw.trim().toLowerCase() === "off") return null;
  if (!/^\/[A-Za-z0-9._~\/-]*$/.test(raw) || raw.includes("//")) throw new Error("expected a path such as /announce, or off");
  return raw;
}

export const TRACKER_FLAGS = {
  trackerPath: flag<string | null>({ flag: "--tracker-path", env: ["GEMMAPOD_SIGNAL_TRACKER_PATH"], value: "PATH", help: "websocket path of the WebTorrent/Trystero tracker, or off", parse: trackerPath, default: "/announce" }),
  trackerIntervalS: flag({ flag: "--tracker-interval", env: ["GEMMAPOD_SIGNAL_TRACKER_INTERVAL"], value: "SECONDS", help: "announce interval the tracker asks of its peers", parse: integer(10, 86_400), default: 120 }),
  trackerMaxPeers: flag({ flag: "--tracker-max-peers", env: ["GEMMAPOD_SIGNAL_TRACKER_MAX_PEERS"], value: "N", help: "peers kept per swarm; past it the least recently seen is dropped", parse: integer(2, 1_000_000), default: 1000 }),
  trackerPeerTtlMs: flag({ flag: "--tracker-peer-ttl", env: ["GEMMAPOD_SIGNAL_TRACKER_PEER_TTL"], value: "MS", help: "a peer not seen for this long leaves its swarm", parse: integer(1000, 86_400_000), default: 20 * 60_000 }),
  trackerMaxOffers: flag({ flag: "--tracker-max-offers", env: ["GEMMAPOD_SIGNAL_TRACKER_MAX_OFFERS"], value: "N", help: "offers in one announce (WebTorrent sends 5, Trystero 3)", parse: integer(1, 82), default: 10 }),
  trackerMaxSdpBytes: flag({ flag: "--tracker-max-sdp-bytes", env: ["GEMMAPOD_SIGNAL_TRACKER_MAX_SDP_BYTES"], value: "SIZE", help: "largest sdp of one offer or answer", parse: size(256, 64 * 1024), default: 16 * 1024 }),
  trackerAnnounceBudget: flag({ flag: "--tracker-announce-budget", env: ["GEMMAPOD_SIGNAL_TRACKER_ANNOUNCE_BUDGET"], value: "N", help: "frames per swarm per interval one socket may send, plus one answer per offer it was sent", parse: integer(4, 1_000_000), default: 30 }),
  trackerMaxSwarmsPerSocket: flag({ flag: "--tracker-max-swarms-per-socket", env: ["GEMMAPOD_SIGNAL_TRACKER_MAX_SWARMS_PER_SOCKET"], value: "N", help: "swarms one tracker socket may be in at once", parse: integer(1, 100_000), default: 1000 }),
};
