// Each protocol's options, in --help order. A new protocol adds its table here.
import { RONDEVU_FLAGS } from "../discovery/rondevu/flags.ts";
import { PEERJS_FLAGS } from "../peerjs/flags.ts";
import { PEER_FLAGS } from "../peers/flags.ts";
import { SIGNAL_FLAGS } from "../signal/flags.ts";
import { TRACKER_FLAGS } from "../tracker/flags.ts";
import { TUNNEL_FLAGS } from "../tunnel/flags.ts";
import { Y_WEBRTC_FLAGS } from "../ywebrtc/flags.ts";

export const PROTOCOL_FLAGS = { ...SIGNAL_FLAGS, ...PEER_FLAGS, ...TUNNEL_FLAGS, ...RONDEVU_FLAGS, ...PEERJS_FLAGS, ...TRACKER_FLAGS, ...Y_WEBRTC_FLAGS };
