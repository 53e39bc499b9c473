// `WS /.webrtc` rooms of peers known by their Ed25519 keys, the ICE servers
// handed to them, the browser client, and the optional STUN port.
import { startStunServer } from "../stun/stun-server.ts";
import type { ProtocolModule } from "../protocols/module.ts";
import { PeerRooms } from "./peer-rooms.ts";
import { peerRoutes } from "./routes.ts";

export const peersProtocol: ProtocolModule = {
  name: "peers",
  open({ settings, hub, telemetry }) {
    const ice = { turnUrls: settings.turnUrls, turnSecret: settings.turnSecret, turnTtlMs: settings.turnTtlMs, stunPort: settings.stunPort };
    const { maxMessageBytes } = settings;
    const rooms = new PeerRooms({ hub, maxMessageBytes, maxPeersPerRoom: settings.maxPeersPerRoom, maxRoomsPerKey: settings.maxRoomsPerKey, authTimeoutMs: settings.peerAuthTimeoutMs, ice, log: telemetry.log });
    const { upgrade, routes } = peerRoutes({
      publicUrl: settings.publicUrl,
      ice,
      budget: { baseRate: settings.peerMessageRate, partnerRate: settings.peerPartnerRate, maxPartners: settings.maxPeersPerRoom, partnerWindowMs: 30_000 },
    });
    telemetry.metrics.peersOnline.track(() => rooms.counts().peers);
    telemetry.metrics.rooms.track(() => rooms.counts().rooms);
    const stun = settings.stunPort > 0 ? startStunServer({ hostname: settings.hostname, port: settings.stunPort }) : undefined;
    const ready = stun?.then(
      () => undefined,
      (error) => Promise.reject(new Error(`--stun-port ${settings.stunPort}: ${(error as Error).message}`)),
    );
    return {
      sockets: { peer: { ...rooms.handlers(), maxFrameBytes: maxMessageBytes * 2 } },
      upgrades: { "/.webrtc": upgrade },
      routes,
      ready,
      status: () => rooms.counts(),
      async close() {
        rooms.closeAll();
        (await stun?.catch(() => undefined))?.close();
      },
    };
  },
};
