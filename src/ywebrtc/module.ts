// `WS /y-webrtc`: the signaling server of Yjs's y-webrtc provider, so that
// `new WebrtcProvider(room, doc, { signaling: ["wss://<host>/y-webrtc"] })` works
// against this server, on one node or across a cluster.
import type { Server } from "bun";
import { textMatches } from "../http/admin-token.ts";
import { jsonError } from "../http/errors.ts";
import type { KindedData } from "../http/websockets.ts";
import type { ProtocolModule } from "../protocols/module.ts";
import { yWebrtcMetrics } from "./metrics.ts";
import { PublishBudget } from "./publish-budget.ts";
import { YSignaling } from "./signaling.ts";
import type { YSocketData } from "./socket-data.ts";

export const yWebrtcProtocol: ProtocolModule = {
  name: "y-webrtc",
  open({ settings, hub, telemetry }) {
    const path = settings.yWebrtcPath;
    // Bun's one frame cap is about twice --max-message-bytes; ours stays within it.
    const maxFrameBytes = Math.min(settings.yWebrtcMaxFrameBytes, settings.maxMessageBytes);
    const signaling = new YSignaling({
      hub,
      maxFrameBytes,
      maxTopicsPerSocket: settings.yWebrtcMaxTopicsPerSocket,
      maxSubscribersPerTopic: settings.yWebrtcMaxSubscribers,
      metrics: (topics) => yWebrtcMetrics(telemetry.metrics.registry, topics),
      log: telemetry.log,
    });
    const policy = { baseRate: settings.yWebrtcPublishRate, peerRate: settings.yWebrtcPeerRate, peerBurst: settings.yWebrtcPeerBurst };
    const tokens = settings.yWebrtcTokens;
    const upgrade = (req: Request, srv: Server<KindedData>, ip: string): Response | undefined => {
      if (tokens.length > 0 && !tokenAccepted(new URL(req.url).searchParams.get("token"), tokens)) {
        signaling.refused("token");
        return jsonError(401, `${path} needs ?token= with a token this server accepts`);
      }
      const data: YSocketData = { kind: "y-webrtc", ip, topics: new Set(), budget: new PublishBudget(policy, settings.yWebrtcMaxTopicsPerSocket * 2), queue: null, queuedBytes: 0, closed: false };
      if (srv.upgrade(req, { data })) return undefined;
      return jsonError(426, `WS ${path} expects a websocket upgrade`, { Upgrade: "websocket" });
    };
    return {
      sockets: { "y-webrtc": { ...signaling.handlers(), maxFrameBytes: maxFrameBytes * 2 } },
      upgrades: path === null ? {} : { [path]: upgrade },
      close: () => signaling.closeAll(),
    };
  },
};

/** Whether `given` is one of `tokens`, each compared in constant time (all of them, so timing says nothing of which). */
function tokenAccepted(given: string | null, tokens: readonly string[]): boolean {
  if (given === null) return false;
  let accepted = false;
  for (const token of tokens) accepted = textMatches(given, token) || accepted;
  return accepted;
}
