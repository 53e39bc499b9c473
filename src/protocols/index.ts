// The wire protocols the server speaks, composed by server.ts in this order.
// A new protocol is a folder with a module; it is listed here and its flags in flags.ts.
import { rondevuProtocol } from "../discovery/rondevu/module.ts";
import { peerjsProtocol } from "../peerjs/module.ts";
import { peersProtocol } from "../peers/module.ts";
import { signalProtocol } from "../signal/module.ts";
import { trackerProtocol } from "../tracker/module.ts";
import { tunnelProtocol } from "../tunnel/module.ts";
import { yWebrtcProtocol } from "../ywebrtc/module.ts";
import type { ProtocolModule } from "./module.ts";

export const PROTOCOLS: readonly ProtocolModule[] = [signalProtocol, peersProtocol, tunnelProtocol, rondevuProtocol, peerjsProtocol, trackerProtocol, yWebrtcProtocol];
