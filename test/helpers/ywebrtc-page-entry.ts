// The page side of the y-webrtc browser tests: the real yjs and y-webrtc, bundled for Chromium.
import * as Y from "yjs";
import { WebrtcProvider } from "y-webrtc";

Object.assign(window as any, { Y, WebrtcProvider });
