import type { Server } from "bun";
import { DEFAULT_CONFIG, type Config } from "./config.ts";
import { createConsole } from "./console/console.ts";
import { openRondevu } from "./discovery/rondevu/open.ts";
import { createApp } from "./http/app.ts";
import { limitRequestBody } from "./http/body-limit.ts";
import { jsonError } from "./http/errors.ts";
import { podCspConnectingTo, type PodHeaderOptions } from "./http/security-headers.ts";
import { localUrl } from "./local-url.ts";
import { WebSockets, type KindedData } from "./http/websockets.ts";
import { PodCache } from "./http/pod-cache.ts";
import { openBindings } from "./registry/bindings.ts";
import { startJanitor } from "./registry/janitor.ts";
import { isManaged } from "./registry/types.ts";
import type { Registry } from "./registry/types.ts";
import { Broker } from "./signal/broker.ts";
import { LocalHub } from "./cluster/local-hub.ts";
import { RedisHub } from "./cluster/redis-hub.ts";
import type { Hub, HubStatus } from "./cluster/hub.ts";
import { newSocketData } from "./signal/socket-data.ts";
import { VERSION } from "./version.ts";
import { ProxyWarning } from "./http/proxy-warning.ts";
import { Warnings } from "./warnings.ts";
import { openTunnels } from "./tunnel/open.ts";

/** Any command-line setting (see config.ts) may be given; the rest take their defaults. */
export interface CreateSignalServerOptions extends Partial<Omit<Config, "registry" | "dataDir">> {
  registry: Registry;
  /** Override the served pods' CSP and Permissions-Policy. */
  podHeaderOptions?: PodHeaderOptions;
  onOriginRegistered?: (podId: string) => void;
  onOriginDisconnected?: (podId: string) => void;
}

export interface SignalServer {
  /** `http://host:port` the server listens on. */
  readonly url: string;
  readonly port: number;
  readonly server: Server<KindedData>;
  /** Pod ids with a live origin. */
  origins(): string[];
  /** Visitor sessions being negotiated. */
  sessions(): number;
  /** Setup problems shown on `/health`; add to it. */
  readonly warnings: Warnings;
  /** Closes every socket, stops listening, then closes the registry. */
  close(): Promise<void>;
}

export function createSignalServer(options: CreateSignalServerOptions): SignalServer {
  const settings = { ...DEFAULT_CONFIG, ...definedOnly(options) };
  const { maxMessageBytes, maxPodBytes } = settings;
  const rondevu = openRondevu(settings, options.registry);
  const bindings = openBindings(options.registry);
  const cache = new PodCache(settings.podCacheBytes);
  const warnings = new Warnings();
  const proxyWarning = settings.trustProxy ? undefined : new ProxyWarning(warnings);
  const janitor = settings.podTtlMs > 0 && isManaged(options.registry) ? startJanitor(options.registry, settings.podTtlMs, (id) => cache.delete(id)) : undefined;
  const hub = settings.cluster ? new RedisHub({ url: settings.cluster, ttlMs: settings.clusterTtlMs, server: () => server }) : new LocalHub(() => server);
  const broker = new Broker({
    hub,
    maxMessageBytes,
    messageRate: settings.wsMessageRate,
    maxSessionsPerSocket: settings.maxSessionsPerSocket,
    maxSessionsPerPod: settings.maxSessionsPerPod,
    answerTimeoutMs: settings.sessionAnswerTimeoutMs,
    originAuth: settings.originAuth,
    bindings,
    onOriginRegistered: options.onOriginRegistered,
    onOriginDisconnected: options.onOriginDisconnected,
  });
  const registryName = options.registry.name ?? "custom";
  const webConsole = createConsole({
    // Features fill their fields here (peers, rooms, tunnels, warnings).
    status: async () => ({
      version: VERSION,
      registry: registryName,
      origins: broker.originPodIds().length,
      sessions: broker.sessionCount(),
      sessionsStarted: broker.sessionsStarted(),
      peers: 0,
      rooms: 0,
      tunnels: 0,
      pods: (await options.registry.countPods?.()) ?? null,
      warnings: warnings.list(),
    }),
    registry: options.registry,
    cache,
    hasOrigin: (podId) => broker.hasOrigin(podId),
    maxViewers: settings.consoleMaxViewers,
    trustProxy: settings.trustProxy,
    maxPodBytes,
  });
  const app = createApp({
    registry: options.registry,
    maxPodBytes,
    publicUrl: settings.publicUrl,
    // Pods may call their tunnel on its own subdomain too.
    podHeaderOptions: settings.tunnelDomain && !options.podHeaderOptions?.csp ? { ...options.podHeaderOptions, csp: podCspConnectingTo(`https://*.${settings.tunnelDomain}`) } : options.podHeaderOptions,
    cache,
    maxPodsPerOwner: settings.maxPodsPerOwner,
    maxBytesPerOwner: settings.maxBytesPerOwner,
    adminToken: settings.adminToken,
    corsOrigins: settings.corsOrigins,
    upload: settings,
    bindings,
    rondevu: { prefix: settings.rondevuPrefix, app: rondevu.app },
    health: () => ({ origins: broker.originPodIds(), sessions: broker.sessionCount(), ...clusterHealth(hub) }),
    console: webConsole.app,
    warnings,
  });

  const tunnels = openTunnels(settings, { hub, registry: options.registry, admit: (req, srv) => sockets.admit(req, srv) });
  const sockets = new WebSockets(
    { signal: { ...broker.handlers(), maxFrameBytes: maxMessageBytes * 2 }, tunnel: tunnels.handlers, "tunnel-visitor": tunnels.visitorHandlers },
    { maxConnections: settings.maxConnections, connectRate: settings.wsConnectRate, trustProxy: settings.trustProxy, proxyWarning },
  );
  // Routes enforce their own, smaller limits; JSON-wrapped pods may be twice the page.
  const maxBodyBytes = maxPodBytes * 2 + 64 * 1024;
  const server: Server<KindedData> = Bun.serve<KindedData>({
    port: settings.port,
    hostname: settings.hostname,
    // Bun's own cap answers without a JSON body; limitRequestBody bounds every body instead.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // Bun matches this path natively: no URL string is built per upgrade.
    routes: {
      "/signal": (req: Request, srv: Server<KindedData>) => {
        const ip = sockets.admit(req, srv);
        if (typeof ip !== "string") return ip;
        if (srv.upgrade(req, { data: newSocketData(ip, settings.wsMessageRate * 2) })) return undefined;
        return jsonError(426, "WS /signal expects a websocket upgrade", { Upgrade: "websocket" });
      },
      "/.tunnel": (req: Request, srv: Server<KindedData>) => tunnels.upgrade(req, srv),
      // Before Hono and the body limiter: tunnelled bodies stream, under their own cap.
      "/tunnel/*": (req: Request, srv: Server<KindedData>) => tunnels.http.byPath(req, srv),
    },
    fetch(req, srv) {
      proxyWarning?.check(req, srv);
      const tunnelled = tunnels.http.bySubdomain(req, srv);
      if (tunnelled) return tunnelled;
      const bounded = limitRequestBody(req, maxBodyBytes);
      return bounded instanceof Response ? bounded : app.fetch(bounded, { server: srv });
    },
    websocket: {
      ...sockets.handler(),
      // One cap for every kind: what JSS-framed tunnel responses need (10 MB of
      // base64 in one frame). /signal keeps its own: frames up to twice the limit
      // get a JSON error, bigger ones close 1009 (see WebSockets).
      maxPayloadLength: Math.max(maxMessageBytes * 2, tunnels.maxFrameBytes),
      // A peer that stops reading must not make us buffer for it without end.
      backpressureLimit: 1024 * 1024,
      closeOnBackpressureLimit: true,
      idleTimeout: settings.wsIdleTimeout,
      sendPings: true,
    },
  });

  return {
    url: localUrl(server.hostname ?? "127.0.0.1", server.port!),
    port: server.port!,
    server,
    origins: () => broker.originPodIds(),
    sessions: () => broker.sessionCount(),
    warnings,
    async close() {
      janitor?.stop();
      cache.clear();
      rondevu.close();
      webConsole.close();
      broker.closeAll();
      tunnels.closeAll();
      await server.stop(true);
      await hub.close();
      await options.registry.close?.();
    },
  };
}

/** A cluster node says how it sees the cluster; a single node adds nothing. */
function clusterHealth(hub: Hub): { cluster?: HubStatus } {
  const status = hub.status();
  return status ? { cluster: status } : {};
}

/** Options left `undefined` keep their defaults instead of erasing them. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
