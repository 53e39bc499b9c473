// Options of `WS /y-webrtc`, the signaling server of Yjs's y-webrtc provider.
import { integer, size } from "../config-values.ts";
import { flag } from "../flags.ts";

/** `off`, or the path the y-webrtc websocket is served on. */
export function yWebrtcPath(raw: string): string | null {
  if (raw.trim().toLowerCase() === "off") return null;
  if (!/^\/[A-Za-z0-9._~\/-]*$/.test(raw) || raw.includes("//") || raw.length > 200) throw new Error("expected a path such as /y-webrtc, or off");
  return raw;
}

/** A comma-separated list of tokens, each long enough not to be guessed. */
export function tokenList(raw: string): string[] {
  const list = raw.split(",").map((t) => t.trim()).filter(Boolean);
  if (list.length === 0 || list.some((t) => t.length < 16 || t.length > 512)) throw new Error("expected tokens of 16 to 512 characters, comma-separated");
  return list;
}

export const Y_WEBRTC_FLAGS = {
  yWebrtcPath: flag<string | null>({ flag: "--y-webrtc-path", env: ["GEMMAPOD_SIGNAL_Y_WEBRTC_PATH"], value: "PATH", help: "where Yjs's y-webrtc provider signals (WS), or off", parse: yWebrtcPath, default: "/y-webrtc" }),
  yWebrtcTokens: flag<string[]>({ flag: "--y-webrtc-token", env: ["GEMMAPOD_SIGNAL_Y_WEBRTC_TOKEN"], value: "TOKENS", help: "require ?token=<one of these> on the y-webrtc URL (comma-separated)", parse: tokenList, default: [] }),
  yWebrtcMaxFrameBytes: flag({ flag: "--y-webrtc-max-frame-bytes", env: ["GEMMAPOD_SIGNAL_Y_WEBRTC_MAX_FRAME_BYTES"], value: "SIZE", help: "largest y-webrtc frame relayed; bigger: an error, twice that closes the socket (at most --max-message-bytes)", parse: size(1024, 64 * 1024 * 1024), default: 64 * 1024 }),
  yWebrtcMaxTopicsPerSocket: flag({ flag: "--y-webrtc-max-topics", env: ["GEMMAPOD_SIGNAL_Y_WEBRTC_MAX_TOPICS"], value: "N", help: "rooms (topics) one y-webrtc socket may subscribe to", parse: integer(1, 100_000), default: 64 }),
  yWebrtcMaxSubscribers: flag({ flag: "--y-webrtc-max-subscribers", env: ["GEMMAPOD_SIGNAL_Y_WEBRTC_MAX_SUBSCRIBERS"], value: "N", help: "sockets in one y-webrtc room (topic), across the cluster", parse: integer(2, 1_000_000), default: 1000 }),
  yWebrtcPublishRate: flag({ flag: "--y-webrtc-publish-rate", env: ["GEMMAPOD_SIGNAL_Y_WEBRTC_PUBLISH_RATE"], value: "N", help: "frames per second any y-webrtc socket may send (burst twice that), plus --y-webrtc-peer-rate per peer in its rooms", parse: integer(1, 1_000_000), default: 20 }),
  yWebrtcPeerRate: flag({ flag: "--y-webrtc-peer-rate", env: ["GEMMAPOD_SIGNAL_Y_WEBRTC_PEER_RATE"], value: "N", help: "more frames per second for each other peer in a y-webrtc socket's rooms", parse: integer(0, 1_000_000), default: 2 }),
  yWebrtcPeerBurst: flag({ flag: "--y-webrtc-peer-burst", env: ["GEMMAPOD_SIGNAL_Y_WEBRTC_PEER_BURST"], value: "N", help: "frames a y-webrtc socket may send at once for each other peer in its rooms (a newcomer signals them all)", parse: integer(0, 1_000_000), default: 24 }),
};
