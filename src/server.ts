import type { Server } from "bun";
import { DEFAULT_CONFIG, type Config } from "./config.ts";
import { createConsole } from "./console/console.ts";
import { openRondevu } from "./discovery/rondevu/open.ts";
import { createApp } from "./http/app.ts";
import { limitRequestBody } from "./http/body-limit.ts";
import { clientIp } from "./http/client-ip.ts";
import { jsonError } from "./http/errors.ts";
import { podCspConnectingTo, type PodHeaderOptions } from "./http/security-headers.ts";
import { localUrl } from "./local-url.ts";
import { WebSockets, websocketFrameCap, type KindedData } from "./http/websockets.ts";
import { PodCache } from "./http/pod-cache.ts";
import { ProxyWarning } from "./http/proxy-warning.ts";
import type { Logger } from "./log/logger.ts";
import type { MetricsRegistry } from "./metrics/registry.ts";
import { openBindings } from "./registry/bindings.ts";
import { startJanitor } from "./registry/janitor.ts";
import { StoreOutages } from "./registry/store-outages.ts";
import { isManaged } from "./registry/types.ts";
import type { Registry } from "./registry/types.ts";
import { Broker } from "./signal/broker.ts";
import { LocalHub } from "./cluster/local-hub.ts";
import { RedisHub } from "./cluster/redis-hub.ts";
import { defaultAdvertise } from "./cluster/advertise.ts";
import type { Hub, HubStatus } from "./cluster/hub.ts";
import { newSocketData } from "./signal/socket-data.ts";
import { Telemetry } from "./telemetry.ts";
import { Listener } from "./tls/listener.ts";
import { openTunnels } from "./tunnel/open.ts";
import { HOP_PATH } from "./tunnel/node-hop.ts";
import { VERSION } from "./version.ts";
import { Warnings } from "./warnings.ts";
import { PeerRooms } from "./peers/peer-rooms.ts";
import { peerRoutes } from "./peers/routes.ts";
import { startStunServer } from "./stun/stun-server.ts";

/** Any command-line setting (see config.ts) may be given; the rest take their defaults. */
export interface CreateSignalServerOptions extends Partial<Omit<Config, "registry" | "dataDir">> {
  registry: Registry;
  /** Override the served pods' CSP and Permissions-Policy. */
  podHeaderOptions?: PodHeaderOptions;
  onOriginRegistered?: (podId: string) => void;
  onOriginDisconnected?: (podId: string) => void;
  /** Where log lines go; by default stdout, per `logLevel` and `logFormat`. */
  logger?: Logger;
}

export interface SignalServer {
  /** `http(s)://host:port` the server listens on. */
  readonly url: string;
  readonly port: number;
  /** The listening Bun server (after a TLS reload, the new one). */
  readonly server: Server<KindedData>;
  /** Served at GET /metrics; other parts declare their own metrics here. */
  readonly metrics: MetricsRegistry;
  /** Re-reads --tls-cert/--tls-key (SIGHUP); false, with the old certificate kept, on failure. */
  reloadTls(): boolean;
  /** Pod ids with a live origin. */
  origins(): string[];
  /** Visitor sessions being negotiated. */
  sessions(): number;
  /** Setup problems shown on `/health`; add to it. */
  readonly warnings: Warnings;
  /** Resolves once every listener is up (the UDP --stun-port too); rejects if one could not bind. */
  readonly ready: Promise<void>;
  /** Closes every socket, stops listening, then closes the registry. */
  close(): Promise<void>;
}

type Route = (req: Request, srv: Server<KindedData>) => Response | undefined | Promise<Response | undefined>;
/** An upgrade route; `ip` is the client's address, read once for the limiter and the request line. */
type UpgradeRoute = (req: Request, srv: Server<KindedData>, ip: string) => Response | undefined | Promise<Response | undefined>;

export function createSignalServer(options: CreateSignalServerOptions): SignalServer {
  const settings = { ...DEFAULT_CONFIG, ...definedOnly(options) };
  const { maxMessageBytes, maxPodBytes } = settings;
  const bindings = openBindings(options.registry);
  const telemetry = new Telemetry(settings, options.logger);
  const { log } = telemetry;
  const cache = new PodCache(settings.podCacheBytes, log);
  const warnings = new Warnings(log);
  const outages = new StoreOutages(options.registry, log, telemetry.metrics.registry);
  const proxyWarning = settings.trustProxy ? undefined : new ProxyWarning(warnings);
  const expire = (id: string) => {
    cache.delete(id);
    telemetry.podDeleted(id, "ttl");
  };
  const janitor = settings.podTtlMs > 0 && isManaged(options.registry) ? startJanitor(options.registry, settings.podTtlMs, expire, log) : undefined;
  // Read once the node is listening (its port may be chosen by the system).
  const advertise = () => settings.clusterAdvertise ?? defaultAdvertise(listener.server.hostname ?? settings.hostname, listener.server.port!, listener.secure);
  const hub = settings.cluster ? new RedisHub({ url: settings.cluster, ttlMs: settings.clusterTtlMs, advertise, server: () => listener, log }) : new LocalHub(() => listener);
  const rondevu = openRondevu(settings, options.registry, hub, log);
  const broker = new Broker({
    hub,
    maxMessageBytes,
    messageRate: settings.wsMessageRate,
    maxSessionsPerSocket: settings.maxSessionsPerSocket,
    maxSessionsPerPod: settings.maxSessionsPerPod,
    answerTimeoutMs: settings.sessionAnswerTimeoutMs,
    originAuth: settings.originAuth,
    bindings,
    onOriginRegistered: (podId) => {
      telemetry.originRegistered(podId);
      options.onOriginRegistered?.(podId);
    },
    onOriginDisconnected: (podId) => {
      telemetry.originGone(podId);
      options.onOriginDisconnected?.(podId);
    },
    observer: telemetry.signal,
  });
  const tunnels = openTunnels(settings, { hub, registry: options.registry, admit: (req, srv) => sockets.admit(req, srv), log });
  const ice = { turnUrls: settings.turnUrls, turnSecret: settings.turnSecret, turnTtlMs: settings.turnTtlMs, stunPort: settings.stunPort };
  const peers = new PeerRooms({ hub, maxMessageBytes, maxPeersPerRoom: settings.maxPeersPerRoom, maxRoomsPerKey: settings.maxRoomsPerKey, authTimeoutMs: settings.peerAuthTimeoutMs, ice, log });
  const frameCap = { maxFrameBytes: maxMessageBytes * 2 };
  const sockets = new WebSockets(
    { signal: { ...broker.handlers(), ...frameCap }, peer: { ...peers.handlers(), ...frameCap }, tunnel: tunnels.handlers, "tunnel-visitor": tunnels.visitorHandlers },
    { maxConnections: settings.maxConnections, maxPerAddress: settings.maxConnectionsPerAddress, connectRate: settings.wsConnectRate, trustProxy: settings.trustProxy, proxyWarning },
  );
  telemetry.track({
    connections: (kind) => sockets.countOf(kind),
    origins: () => broker.originCount(),
    sessions: () => broker.sessionCount(),
    cache,
    peers: () => peers.counts(),
    tunnels: () => tunnels.tunnels().length,
    cluster: () => hub.status(),
  });

  const webConsole = createConsole({
    // Features fill their fields here.
    status: async () => ({
      version: VERSION,
      registry: options.registry.name ?? "custom",
      origins: broker.originCount(),
      sessions: broker.sessionCount(),
      sessionsStarted: broker.sessionsStarted(),
      ...peers.counts(),
      tunnels: tunnels.tunnels().length,
      pods: (await options.registry.countPods?.()) ?? null,
      warnings: warnings.list(),
    }),
    registry: options.registry,
    cache,
    hasOrigin: (podId) => broker.hasOrigin(podId),
    maxViewers: settings.consoleMaxViewers,
    trustProxy: settings.trustProxy,
    maxPodBytes,
    log,
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
    outages,
    log,
    metrics: { registry: telemetry.metrics.registry, token: settings.metricsToken },
    observer: telemetry.pods,
    onPodDeleted: (id) => telemetry.podDeleted(id, "request"),
  });

  /** Upgrade routes: one request line each, with the address read before Bun hands the socket over. */
  const upgrading =
    (path: string, route: UpgradeRoute): Route =>
    async (req, srv) => {
      const started = performance.now();
      const ip = clientIp(req, srv, settings.trustProxy);
      const res = await route(req, srv, ip);
      telemetry.requests.upgrade(req, path, res?.status ?? 101, started, ip);
      return res;
    };
  const peerHttp = peerRoutes({
    sockets,
    publicUrl: settings.publicUrl,
    ice,
    budget: { baseRate: settings.peerMessageRate, partnerRate: settings.peerPartnerRate, maxPartners: settings.maxPeersPerRoom, partnerWindowMs: 30_000 },
  });
  // Routes enforce their own, smaller limits; JSON-wrapped pods may be twice the page.
  const maxBodyBytes = maxPodBytes * 2 + 64 * 1024;
  const tlsFiles = settings.tlsCert && settings.tlsKey ? { certFile: settings.tlsCert, keyFile: settings.tlsKey } : undefined;
  const listener: Listener<KindedData> = new Listener<KindedData>(
    {
      port: settings.port,
      hostname: settings.hostname,
      // Bun's own cap answers without a JSON body; limitRequestBody bounds every body instead.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      // Bun matches these paths natively: no URL string is built per upgrade.
      routes: {
        "/signal": upgrading("/signal", (req, srv, address) => {
          const ip = sockets.admit(req, srv, address);
          if (typeof ip !== "string") return ip;
          if (srv.upgrade(req, { data: newSocketData(settings.wsMessageRate * 2, ip) })) return undefined;
          return jsonError(426, "WS /signal expects a websocket upgrade", { Upgrade: "websocket" });
        }),
        "/.tunnel": upgrading("/.tunnel", (req, srv) => tunnels.upgrade(req, srv)),
        ...peerHttp,
        "/.webrtc": upgrading("/.webrtc", peerHttp["/.webrtc"]),
        // Before Hono and the body limiter: tunnelled bodies stream, under their own cap.
        "/tunnel/*": (req: Request, srv: Server<KindedData>) => telemetry.requests.observe(req, srv, () => tunnels.http.byPath(req, srv), { streamed: true }),
        // Tunnelled requests another cluster node carries to this one's tunnel clients.
        [`${HOP_PATH}*`]: (req: Request, srv: Server<KindedData>) => telemetry.requests.observe(req, srv, () => tunnels.http.byHop(req, srv), { streamed: true }),
      },
      fetch(req, srv) {
        proxyWarning?.check(req, srv);
        const tunnelled = tunnels.http.bySubdomain(req, srv);
        if (tunnelled) return telemetry.requests.observe(req, srv, () => tunnelled, { streamed: true });
        return telemetry.requests.observe(req, srv, () => {
          const bounded = limitRequestBody(req, maxBodyBytes);
          return bounded instanceof Response ? bounded : app.fetch(bounded, { server: srv });
        });
      },
      websocket: {
        ...sockets.handler(),
        // One cap for every kind, what a stranger can make Bun hold per socket (see websocketFrameCap).
        maxPayloadLength: websocketFrameCap([maxMessageBytes * 2, tunnels.maxFrameBytes], settings.maxFrameBytes),
        // A peer that stops reading must not make us buffer for it without end.
        backpressureLimit: 1024 * 1024,
        closeOnBackpressureLimit: true,
        idleTimeout: settings.wsIdleTimeout,
        sendPings: true,
      },
      ...peerRoutes({
        sockets,
        publicUrl: settings.publicUrl,
        ice,
        budget: { baseRate: settings.peerMessageRate, partnerRate: settings.peerPartnerRate, maxPartners: settings.maxPeersPerRoom, partnerWindowMs: 30_000 },
      }),
    },
    tlsFiles,
    log,
  );
  const { server } = listener;

  const stun = settings.stunPort > 0 ? startStunServer({ hostname: settings.hostname, port: settings.stunPort }) : undefined;
  const ready = stun ? stun.then(() => undefined, (error) => Promise.reject(new Error(`--stun-port ${settings.stunPort}: ${(error as Error).message}`))) : Promise.resolve();
  ready.catch(() => {}); // reported to whoever awaits `ready`

  return {
    ready,
    url: localUrl(server.hostname ?? "127.0.0.1", server.port!, listener.secure),
    port: server.port!,
    get server() {
      return listener.server;
    },
    metrics: telemetry.metrics.registry,
    reloadTls: () => listener.reloadTls(),
    origins: () => broker.originPodIds(),
    sessions: () => broker.sessionCount(),
    warnings,
    async close() {
      janitor?.stop();
      outages.close();
      cache.clear();
      rondevu.close();
      webConsole.close();
      broker.closeAll();
      tunnels.closeAll();
      peers.closeAll();
      (await stun?.catch(() => undefined))?.close();
      await listener.stop(true);
      await hub.close();
      telemetry.flush();
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
