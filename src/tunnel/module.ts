// `WS /.tunnel` for owners' tunnel clients, and the tunnelled requests of
// visitors: by path, by the tunnel's own subdomain, and by the node-to-node hop.
import type { Server } from "bun";
import type { KindedData } from "../http/websockets.ts";
import type { ProtocolModule } from "../protocols/module.ts";
import { HOP_PATH } from "./node-hop.ts";
import { openTunnels } from "./open.ts";

export const tunnelProtocol: ProtocolModule = {
  name: "tunnel",
  open({ settings, hub, registry, admit, telemetry }) {
    const tunnels = openTunnels(settings, { hub, registry, admit, log: telemetry.log });
    telemetry.metrics.tunnelsOnline.track(() => tunnels.tunnels().length);
    // Tunnelled bodies stream under the tunnel's own caps, not the server's body limit.
    const streamed = (req: Request, srv: Server<KindedData>, handle: () => Response | undefined | Promise<Response | undefined>) => telemetry.requests.observe(req, srv, handle, { streamed: true });
    return {
      sockets: {
        tunnel: { ...tunnels.handlers, maxFrameBytes: tunnels.maxFrameBytes },
        "tunnel-visitor": { ...tunnels.visitorHandlers, maxFrameBytes: tunnels.visitorFrameBytes },
      },
      upgrades: { "/.tunnel": tunnels.upgrade },
      routes: {
        "/tunnel/*": (req, srv) => streamed(req, srv, () => tunnels.http.byPath(req, srv)),
        // Tunnelled requests another cluster node carries to this one's tunnel clients.
        [`${HOP_PATH}*`]: (req, srv) => streamed(req, srv, () => tunnels.http.byHop(req, srv)),
      },
      intercept(req, srv) {
        const tunnelled = tunnels.http.bySubdomain(req, srv);
        return tunnelled && streamed(req, srv, () => tunnelled);
      },
      status: () => ({ tunnels: tunnels.tunnels().length }),
      close: () => tunnels.closeAll(),
    };
  },
};
