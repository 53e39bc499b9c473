import type { Server } from "bun";
import { DEFAULT_CONFIG, type Config } from "./config.ts";
import { createConsole } from "./console/console.ts";
import { createApp } from "./http/app.ts";
import { limitRequestBody } from "./http/body-limit.ts";
import { clientIp } from "./http/client-ip.ts";
import { podCspConnectingTo, type PodHeaderOptions } from "./http/security-headers.ts";
import { localUrl } from "./local-url.ts";
import { WebSockets, websocketFrameCap, type KindedData, type SocketHandlers } from "./http/websockets.ts";
import { PodCache } from "./http/pod-cache.ts";
import { ProxyWarning } from "./http/proxy-warning.ts";
import type { Logger } from "./log/logger.ts";
import type { MetricsRegistry } from "./metrics/registry.ts";
import { openBindings } from "./registry/bindings.ts";
import { startJanitor } from "./registry/janitor.ts";
import { StoreOutages } from "./registry/store-outages.ts";
import { isManaged } from "./registry/types.ts";
import type { Registry } from "./registry/types.ts";
import { LocalHub } from "./cluster/local-hub.ts";
import { RedisHub } from "./cluster/redis-hub.ts";
import { defaultAdvertise } from "./cluster/advertise.ts";
import { podTopic, type Hub, type HubStatus } from "./cluster/hub.ts";
import type { ConsoleStatus } from "./console/status.ts";
import { PROTOCOLS } from "./protocols/index.ts";
import type { Admit, Route, UpgradeRoute } from "./protocols/module.ts";
import { Telemetry } from "./telemetry.ts";
import { Listener } from "./tls/listener.ts";
import { VERSION } from "./version.ts";
import { Warnings } from "./warnings.ts";

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

  const admit: Admit = (req, srv) => sockets.admit(req, srv);
  const hooks = { onOriginRegistered: options.onOriginRegistered, onOriginDisconnected: options.onOriginDisconnected };
  const protocols = PROTOCOLS.map((module) => module.open({ settings, hub, registry: options.registry, bindings, admit, telemetry, warnings, hooks }));
  const socketHandlers: Record<string, SocketHandlers<any>> = {};
  protocols.forEach((p, i) => claimEach(socketHandlers, p.sockets, PROTOCOLS[i]!.name, "socket kind"));
  const sockets = new WebSockets(socketHandlers, { maxConnections: settings.maxConnections, maxPerAddress: settings.maxConnectionsPerAddress, connectRate: settings.wsConnectRate, trustProxy: settings.trustProxy, proxyWarning });
  telemetry.track({ kinds: Object.keys(socketHandlers), connections: (kind) => sockets.countOf(kind), cache, cluster: () => hub.status() });
  const fieldsOf = (part: "health" | "status") => Object.assign({}, ...protocols.map((p) => p[part]?.())) as Record<string, unknown>;

  const webConsole = createConsole({
    status: async () => ({
      version: VERSION,
      registry: options.registry.name ?? "custom",
      ...(fieldsOf("status") as Omit<ConsoleStatus, "version" | "registry" | "pods" | "warnings">),
      pods: (await options.registry.countPods?.()) ?? null,
      warnings: warnings.list(),
    }),
    registry: options.registry,
    cache,
    hasOrigin: async (podId) => (await hub.holder(podTopic(podId))) !== null,
    maxViewers: settings.consoleMaxViewers,
    trustProxy: settings.trustProxy,
    maxPodBytes,
    log,
  });
  const mounts = protocols.flatMap((p) => (p.mount ? [p.mount] : []));
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
    mounts,
    health: () => ({ ...fieldsOf("health"), ...clusterHealth(hub) }),
    console: webConsole.app,
    warnings,
    outages,
    log,
    metrics: { registry: telemetry.metrics.registry, token: settings.metricsToken },
    observer: telemetry.pods,
    onPodDeleted: (id) => telemetry.podDeleted(id, "request"),
  });

  /** Every websocket path passes the shared gate, with the address read once, and is logged as one request line. */
  const upgrading =
    (path: string, route: UpgradeRoute): Route =>
    async (req, srv) => {
      const started = performance.now();
      const ip = clientIp(req, srv, settings.trustProxy);
      const admitted = sockets.admit(req, srv, ip);
      const res = typeof admitted === "string" ? await route(req, srv, ip) : admitted;
      telemetry.requests.upgrade(req, path, res?.status ?? 101, started, ip);
      return res;
    };
  const routes: Record<string, unknown> = {};
  protocols.forEach((p, i) => {
    const upgrades = Object.fromEntries(Object.entries(p.upgrades ?? {}).map(([path, route]) => [path, upgrading(path, route)]));
    claimEach(routes, { ...p.routes, ...upgrades }, PROTOCOLS[i]!.name, "path");
  });
  const intercepts = protocols.flatMap((p) => (p.intercept ? [p.intercept.bind(p)] : []));
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
      routes: routes as Record<string, Route>,
      fetch(req, srv) {
        proxyWarning?.check(req, srv);
        for (const intercept of intercepts) {
          const answered = intercept(req, srv);
          if (answered) return answered;
        }
        return telemetry.requests.observe(req, srv, () => {
          const bounded = limitRequestBody(req, maxBodyBytes);
          return bounded instanceof Response ? bounded : app.fetch(bounded, { server: srv });
        });
      },
      websocket: {
        ...sockets.handler(),
        // One cap for every kind: the largest any kind needs (a kind with a smaller one closes
        // bigger frames with 1009), what a stranger can make Bun hold per socket (see websocketFrameCap).
        maxPayloadLength: websocketFrameCap([maxMessageBytes * 2, ...Object.values(socketHandlers).map((h) => h.maxFrameBytes ?? 0)], settings.maxFrameBytes),
        // A peer that stops reading must not make us buffer for it without end.
        backpressureLimit: 1024 * 1024,
        closeOnBackpressureLimit: true,
        idleTimeout: settings.wsIdleTimeout,
        sendPings: true,
      },
    },
    tlsFiles,
    log,
  );
  const { server } = listener;

  const ready = Promise.all(protocols.map((p) => p.ready)).then(() => undefined);
  ready.catch(() => {}); // reported to whoever awaits `ready`
  const health = () => fieldsOf("health") as { origins?: string[]; sessions?: number };

  return {
    ready,
    url: localUrl(server.hostname ?? "127.0.0.1", server.port!, listener.secure),
    port: server.port!,
    get server() {
      return listener.server;
    },
    metrics: telemetry.metrics.registry,
    reloadTls: () => listener.reloadTls(),
    origins: () => health().origins ?? [],
    sessions: () => health().sessions ?? 0,
    warnings,
    async close() {
      janitor?.stop();
      outages.close();
      cache.clear();
      webConsole.close();
      await Promise.all(protocols.map((p) => p.close()));
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

/**
 * Adds a protocol's entries; a path or socket kind another protocol already serves is refused
 * at start (e.g. `--y-webrtc-path /signal`), never silently taken from it.
 */
function claimEach<T>(into: Record<string, T>, entries: Record<string, T>, protocol: string, what: string): void {
  for (const [key, value] of Object.entries(entries)) {
    if (key in into) throw new Error(`${protocol}: the ${what} ${key} is already served by another protocol; move one of them (see --help)`);
    into[key] = value;
  }
}

/** Options left `undefined` keep their defaults instead of erasing them. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
