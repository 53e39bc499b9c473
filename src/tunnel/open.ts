import type { Server } from "bun";
import type { Hub } from "../cluster/hub.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log/logger.ts";
import type { SocketHandlers } from "../http/websockets.ts";
import { SignedRequestVerifier } from "../identity/signed-request.ts";
import { openTunnelNames } from "../registry/tunnel-names.ts";
import type { Registry } from "../registry/types.ts";
import { LocalTunnelDirectory } from "./directory.ts";
import { TunnelHttp, MAX_VISITOR_MESSAGE_BYTES } from "./http.ts";
import { HopRoutes } from "./hop-routes.ts";
import { MAX_CONTROL_BYTES, MAX_INBOUND_FRAME_BYTES } from "./protocol.ts";
import { TunnelBroker } from "./tunnel-broker.ts";
import { WindowBudget } from "./window.ts";

type Admit = (req: Request, srv: Server<unknown>) => string | Response;

/** Everything the tunnel adds to the server, built from the flags. */
export function openTunnels(settings: Omit<Config, "registry" | "dataDir">, deps: { hub: Hub; registry: Registry; admit: Admit; log: Logger }) {
  const directory = new LocalTunnelDirectory(new HopRoutes(deps.hub, settings.tunnelTimeoutMs).find);
  const broker = new TunnelBroker({
    hub: deps.hub,
    names: openTunnelNames(deps.registry),
    directory,
    settings: {
      headTimeoutMs: settings.tunnelTimeoutMs,
      idleTimeoutMs: settings.tunnelIdleTimeoutMs,
      maxBodyBytes: settings.tunnelMaxBodyBytes,
      maxConcurrent: settings.tunnelMaxConcurrent,
      window: settings.tunnelWindowBytes,
      maxWindow: Math.max(settings.tunnelWindowBytes, settings.tunnelMaxWindowBytes),
      memoryPerTunnel: settings.tunnelMemoryPerTunnelBytes,
    },
    windowMemory: new WindowBudget(settings.tunnelMemoryBytes),
    maxPerKey: settings.tunnelMaxPerKey,
    publicUrl: settings.publicUrl,
    tunnelDomain: settings.tunnelDomain,
    trustProxy: settings.trustProxy,
    verifier: new SignedRequestVerifier(),
    messageRate: settings.wsMessageRate,
    log: deps.log,
  });
  const http = new TunnelHttp({ directory, publicUrl: settings.publicUrl, tunnelDomain: settings.tunnelDomain, trustProxy: settings.trustProxy, admit: deps.admit, admitsNode: (credential) => deps.hub.admitsNode(credential), log: deps.log });
  return {
    http,
    handlers: broker.handlers(),
    visitorHandlers: http.visitorHandlers() as SocketHandlers<unknown>,
    /**
     * The frame cap a tunnel client needs from Bun: a streaming client's binary frame. A JSS
     * client's whole response in one JSON frame needs more only past that (up to 10 MB of
     * body): the operator opts in with --max-frame-bytes.
     */
    maxFrameBytes: Math.max(MAX_INBOUND_FRAME_BYTES, MAX_CONTROL_BYTES, settings.maxFrameBytes),
    /** A visitor's message through a tunnel. */
    visitorFrameBytes: MAX_VISITOR_MESSAGE_BYTES,
    /** `WS /.tunnel`, once the shared gate admitted the client at `ip`. */
    upgrade: (req: Request, srv: Server<unknown>, ip: string): Response | undefined => broker.upgrade(req, srv, ip) ?? undefined,
    tunnels: () => broker.tunnels(),
    closeAll: () => broker.closeAll(),
  };
}

