import type { Server } from "bun";
import { DEFAULT_CONFIG, type Config } from "./config.ts";
import { openRondevu } from "./discovery/rondevu/open.ts";
import { createApp } from "./http/app.ts";
import { clientIp } from "./http/client-ip.ts";
import { limitRequestBody } from "./http/body-limit.ts";
import { jsonError } from "./http/errors.ts";
import type { PodHeaderOptions } from "./http/security-headers.ts";
import { localUrl } from "./local-url.ts";
import { RateLimiter } from "./limits/rate-limiter.ts";
import { PodCache } from "./http/pod-cache.ts";
import { openBindings } from "./registry/bindings.ts";
import { startJanitor } from "./registry/janitor.ts";
import { isManaged } from "./registry/types.ts";
import type { Registry } from "./registry/types.ts";
import { Broker } from "./signal/broker.ts";
import { localRouter } from "./signal/router.ts";
import { newSocketData, type SocketData } from "./signal/socket-data.ts";
import type { Logger } from "./log/logger.ts";
import type { MetricsRegistry } from "./metrics/registry.ts";
import { Telemetry } from "./telemetry.ts";
import { Listener } from "./tls/listener.ts";

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
  /** `http://host:port` the server listens on. */
  readonly url: string;
  readonly port: number;
  readonly server: Server<SocketData>;
  /** Served at GET /metrics; other parts declare their own metrics here. */
  readonly metrics: MetricsRegistry;
  /** Re-reads --tls-cert/--tls-key (SIGHUP); false, with the old certificate kept, on failure. */
  reloadTls(): boolean;
  /** Pod ids with a live origin. */
  origins(): string[];
  /** Visitor sessions being negotiated. */
  sessions(): number;
  /** Closes every socket, stops listening, then closes the registry. */
  close(): Promise<void>;
}

export function createSignalServer(options: CreateSignalServerOptions): SignalServer {
  const settings = { ...DEFAULT_CONFIG, ...definedOnly(options) };
  const { maxMessageBytes, maxPodBytes } = settings;
  const rondevu = openRondevu(settings, options.registry);
  const bindings = openBindings(options.registry);
  const telemetry = new Telemetry(settings, options.logger);
  const { log } = telemetry;
  const cache = new PodCache(settings.podCacheBytes, log);
  const expire = (id: string) => {
    cache.delete(id);
    telemetry.podDeleted(id, "ttl");
  };
  const janitor = settings.podTtlMs > 0 && isManaged(options.registry) ? startJanitor(options.registry, settings.podTtlMs, expire, log) : undefined;
  const broker: Broker = new Broker({
    router: localRouter(() => listener),
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
  telemetry.track({ connections: () => broker.connectionCount(), origins: () => broker.originCount(), sessions: () => broker.sessionCount(), cache });
  const app = createApp({
    registry: options.registry,
    maxPodBytes,
    publicUrl: settings.publicUrl,
    podHeaderOptions: options.podHeaderOptions,
    cache,
    maxPodsPerOwner: settings.maxPodsPerOwner,
    maxBytesPerOwner: settings.maxBytesPerOwner,
    adminToken: settings.adminToken,
    corsOrigins: settings.corsOrigins,
    upload: settings,
    bindings,
    rondevu: { prefix: settings.rondevuPrefix, app: rondevu.app },
    health: () => ({ origins: broker.originPodIds(), sessions: broker.sessionCount() }),
    log,
    metrics: { registry: telemetry.metrics.registry, token: settings.metricsToken },
    observer: telemetry.pods,
    onPodDeleted: (id) => telemetry.podDeleted(id, "request"),
  });

  const connectLimiter = new RateLimiter(settings.wsConnectRate, settings.wsConnectRate * 2);
  // Routes enforce their own, smaller limits; JSON-wrapped pods may be twice the page.
  const maxBodyBytes = maxPodBytes * 2 + 64 * 1024;
  const upgradeSignal = (req: Request, srv: Server<SocketData>, ip: string) => {
    if (broker.connectionCount() >= settings.maxConnections) {
      return jsonError(503, "server is at its connection limit", { "Retry-After": "5" });
    }
    const retry = connectLimiter.take(ip);
    if (retry > 0) return jsonError(429, "too many new connections from this address", { "Retry-After": String(retry) });
    if (srv.upgrade(req, { data: newSocketData(ip, settings.wsMessageRate * 2) })) return undefined;
    return jsonError(426, "WS /signal expects a websocket upgrade", { Upgrade: "websocket" });
  };
  const tlsFiles = settings.tlsCert && settings.tlsKey ? { certFile: settings.tlsCert, keyFile: settings.tlsKey } : undefined;
  const listener: Listener<SocketData> = new Listener<SocketData>({
    port: settings.port,
    hostname: settings.hostname,
    // Bun's own cap answers without a JSON body; limitRequestBody bounds every body instead.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // Bun matches this path natively: no URL string is built per upgrade.
    routes: {
      "/signal": (req: Request, srv: Server<SocketData>) => {
        const started = performance.now();
        // Before the upgrade: afterwards Bun no longer knows the request's address.
        const ip = clientIp(req, srv, settings.trustProxy);
        const res = upgradeSignal(req, srv, ip);
        telemetry.requests.upgrade(req, res?.status ?? 101, started, ip);
        return res;
      },
    },
    fetch(req, srv) {
      return telemetry.requests.observe(req, srv, () => {
        const bounded = limitRequestBody(req, maxBodyBytes);
        return bounded instanceof Response ? bounded : app.fetch(bounded, { server: srv });
      });
    },
    websocket: {
      ...broker.handlers(),
      // Frames up to twice the limit get a JSON error; bigger ones are cut off
      // by Bun (close 1009) before they are buffered whole.
      maxPayloadLength: maxMessageBytes * 2,
      // A peer that stops reading must not make us buffer for it without end.
      backpressureLimit: 1024 * 1024,
      closeOnBackpressureLimit: true,
      idleTimeout: settings.wsIdleTimeout,
      sendPings: true,
    },
  }, tlsFiles, log);
  const { server } = listener;

  return {
    url: localUrl(server.hostname ?? "127.0.0.1", server.port!, listener.secure),
    port: server.port!,
    get server() {
      return listener.server;
    },
    metrics: telemetry.metrics.registry,
    reloadTls: () => listener.reloadTls(),
    origins: () => broker.originPodIds(),
    sessions: () => broker.sessionCount(),
    async close() {
      janitor?.stop();
      cache.clear();
      rondevu.close();
      broker.closeAll();
      await listener.stop(true);
      telemetry.flush();
      await options.registry.close?.();
    },
  };
}

/** Options left `undefined` keep their defaults instead of erasing them. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
