// PeerJS (`peer` 1.0 wire): `new Peer(id?, {host, port, path: "/peerjs"})` works
// against this server unchanged, with one id space across every node.
import type { Protocol, ProtocolModule } from "../protocols/module.ts";
import { Delivery } from "./delivery.ts";
import { peerjsHttp } from "./http.ts";
import { declarePeerjsMetrics } from "./metrics.ts";
import { peerjsNames } from "./names.ts";
import { PeerjsSockets } from "./peerjs-sockets.ts";

/** Partners a socket's budget counts at most: more than anyone negotiates with in 30 s. */
const MAX_PARTNERS = 256;
/** Bytes held for one offline id: an OFFER and its candidates many times over. */
const PER_ID_BYTES = 1024 * 1024;

export const peerjsProtocol: ProtocolModule = {
  name: "peerjs",
  open({ settings, hub, telemetry }): Protocol {
    if (settings.peerjsPath === "off") return { sockets: {}, close() {} };
    const names = peerjsNames(settings.peerjsKey);
    // The closures below are called only once everything is built.
    const metrics = declarePeerjsMetrics(telemetry.metrics.registry, { ids: () => sockets.count(), held: () => delivery.held() });
    const delivery = new Delivery(
      hub,
      names,
      { expireMs: settings.peerjsExpireTimeoutMs, perIdMessages: settings.peerjsQueueMessages, perIdBytes: Math.min(PER_ID_BYTES, settings.peerjsQueueBytes), totalBytes: settings.peerjsQueueBytes },
      {
        expired: (sender, dst, reason) => {
          metrics.expired[reason].inc();
          sockets.notThere(sender, dst);
        },
      },
    );
    const sockets = new PeerjsSockets({
      hub,
      names,
      key: settings.peerjsKey,
      maxPeers: settings.peerjsMaxPeers,
      maxMessageBytes: settings.maxMessageBytes,
      aliveTimeoutMs: settings.peerjsAliveTimeoutMs,
      delivery,
      metrics,
      log: telemetry.log,
    });
    const http = peerjsHttp({
      path: settings.peerjsPath,
      key: settings.peerjsKey,
      discovery: settings.peerjsDiscovery,
      budget: { baseRate: settings.peerjsMessageRate, partnerRate: settings.peerjsPartnerRate, maxPartners: MAX_PARTNERS, partnerWindowMs: 30_000 },
      ids: () => sockets.ids(),
    });
    return {
      sockets: { peerjs: { ...sockets.handlers(), maxFrameBytes: settings.maxMessageBytes * 2 } },
      upgrades: { [http.wsPath]: http.upgrade },
      routes: http.routes,
      close() {
        sockets.closeAll();
        delivery.close();
      },
    };
  },
};
