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
  readonly server: Server<SocketData>;
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
  const cache = new PodCache(settings.podCacheBytes);
  const janitor = settings.podTtlMs > 0 && isManaged(options.registry) ? startJanitor(options.registry, settings.podTtlMs, (id) => cache.delete(id)) : undefined;
  const broker = new Broker({
    router: localRouter(() => server),
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
  });

  const connectLimiter = new RateLimiter(settings.wsConnectRate, settings.wsConnectRate * 2);
  // Routes enforce their own, smaller limits; JSON-wrapped pods may be twice the page.
  const maxBodyBytes = maxPodBytes * 2 + 64 * 1024;
  const server: Server<SocketData> = Bun.serve<SocketData>({
    port: settings.port,
    hostname: settings.hostname,
    // Bun's own cap answers without a JSON body; limitRequestBody bounds every body instead.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // Bun matches this path natively: no URL string is built per upgrade.
    routes: {
      "/signal": (req: Request, srv: Server<SocketData>) => {
        if (broker.connectionCount() >= settings.maxConnections) {
          return jsonError(503, "server is at its connection limit", { "Retry-After": "5" });
        }
        const ip = clientIp(req, srv, settings.trustProxy);
        const retry = connectLimiter.take(ip);
        if (retry > 0) return jsonError(429, "too many new connections from this address", { "Retry-After": String(retry) });
        if (srv.upgrade(req, { data: newSocketData(settings.wsMessageRate * 2) })) return undefined;
        return jsonError(426, "WS /signal expects a websocket upgrade", { Upgrade: "websocket" });
      },
    },
    fetch(req, srv) {
      const bounded = limitRequestBody(req, maxBodyBytes);
      return bounded instanceof Response ? bounded : app.fetch(bounded, { server: srv });
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
  });

  return {
    url: localUrl(server.hostname ?? "127.0.0.1", server.port!),
    port: server.port!,
    server,
    origins: () => broker.originPodIds(),
    sessions: () => broker.sessionCount(),
    async close() {
      janitor?.stop();
      cache.clear();
      rondevu.close();
      broker.closeAll();
      await server.stop(true);
      await options.registry.close?.();
    },
  };
}

/** Options left `undefined` keep their defaults instead of erasing them. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
