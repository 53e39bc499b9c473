// `WS /announce`: the WebSocket tracker that WebTorrent, Trystero and p2p-media-loader peers use.
import type { Server } from "bun";
import { jsonError } from "../http/errors.ts";
import type { KindedData } from "../http/websockets.ts";
import type { Protocol, ProtocolModule } from "../protocols/module.ts";
import { AnnounceBudget } from "./budget.ts";
import { declareTrackerMetrics } from "./metrics.ts";
import type { TrackerSocketData } from "./socket-data.ts";
import { Tracker } from "./tracker.ts";

/** info_hash values one scrape may name. */
const MAX_SCRAPE_HASHES = 64;

export const trackerProtocol: ProtocolModule = {
  name: "tracker",
  open({ settings, hub, telemetry }): Protocol {
    const intervalMs = settings.trackerIntervalS * 1000;
    let tracker: Tracker | undefined;
    const metrics = declareTrackerMetrics(telemetry.metrics.registry, () => tracker?.local.counts() ?? { swarms: 0, peers: 0 });
    const path = settings.trackerPath;
    if (path === null) return { sockets: {}, close() {} };
    tracker = new Tracker(
      {
        hub,
        log: telemetry.log,
        wire: { maxOffers: settings.trackerMaxOffers, maxSdpBytes: settings.trackerMaxSdpBytes, maxScrapeHashes: MAX_SCRAPE_HASHES },
        intervalS: settings.trackerIntervalS,
        maxPeers: settings.trackerMaxPeers,
        peerTtlMs: settings.trackerPeerTtlMs,
        maxSwarmsPerSocket: settings.trackerMaxSwarmsPerSocket,
      },
      metrics,
    );
    const upgrade = (req: Request, srv: Server<KindedData>, ip: string): Response | undefined => {
      const data: TrackerSocketData = { kind: "tracker", ip, budget: new AnnounceBudget(settings.trackerAnnounceBudget, intervalMs) };
      if (srv.upgrade(req, { data })) return undefined;
      return jsonError(426, `WS ${path} expects a websocket upgrade`, { Upgrade: "websocket" });
    };
    const own = tracker;
    return {
      // Offers carry a full SDP each (no trickling): a few of them fit in the shared frame cap.
      sockets: { tracker: { ...own.handlers(), maxFrameBytes: settings.maxMessageBytes * 2 } },
      upgrades: { [path]: upgrade },
      status: () => ({ tracker: own.local.counts() }),
      close: () => own.close(),
    };
  },
};
