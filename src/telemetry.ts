import type { Config } from "./config.ts";
import { RequestObserver } from "./http/request-observer.ts";
import type { PodObserver } from "./http/pod-routes.ts";
import type { PodCache } from "./http/pod-cache.ts";
import { Logger } from "./log/logger.ts";
import { RefusalSummary } from "./log/refusal-summary.ts";
import type { HubStatus } from "./cluster/hub.ts";
import type { SocketKind } from "./http/websockets.ts";
import { declareServerMetrics, type ServerMetrics } from "./metrics/server-metrics.ts";
import type { PodRecord } from "./registry/types.ts";
import { SignalObserver } from "./signal/signal-observer.ts";

export type TelemetrySettings = Pick<Config, "logLevel" | "logFormat" | "rondevuPrefix" | "trustProxy">;

/** One server's logger and metrics, and the observers its parts report to. */
export class Telemetry {
  readonly log: Logger;
  readonly metrics: ServerMetrics;
  readonly signal: SignalObserver;
  readonly requests: RequestObserver;
  private readonly summary: RefusalSummary;

  constructor(settings: TelemetrySettings, logger?: Logger) {
    this.log = logger ?? new Logger({ level: settings.logLevel, format: settings.logFormat });
    this.metrics = declareServerMetrics();
    this.summary = new RefusalSummary(this.log);
    this.signal = new SignalObserver(this.metrics, this.log, this.summary);
    this.requests = new RequestObserver({
      metrics: this.metrics,
      log: this.log,
      refused: (limit) => this.signal.refused(limit),
      rondevuPrefix: settings.rondevuPrefix,
      trustProxy: settings.trustProxy,
    });
  }

  /** Gauges read at scrape time from the parts that own the numbers. */
  track(live: { kinds: readonly SocketKind[]; connections(kind: SocketKind): number; cache: PodCache; cluster(): HubStatus | null }): void {
    const m = this.metrics;
    const connections = m.registry.gauge({ name: "gemmapod_signal_connections", help: "Open websocket connections by socket kind.", labels: { kind: live.kinds } });
    for (const kind of live.kinds) connections.with({ kind }).track(() => live.connections(kind));
    m.clusterNodes.track(() => live.cluster()?.nodes ?? 0);
    m.clusterRouted.track(() => live.cluster()?.routed ?? 0);
    m.clusterRedisErrors.track(() => live.cluster()?.redisErrors ?? 0);
    m.podCacheHits.track(() => live.cache.hits);
    m.podCacheMisses.track(() => live.cache.misses);
  }

  readonly pods: PodObserver = {
    published: (record: PodRecord) => {
      this.metrics.podsUploaded.inc();
      this.log.info("pod published", { podId: record.id, owner: record.ownerPubkey, name: record.name.slice(0, 100), bytes: record.blobSize });
    },
    served: (encoding, bytes) => this.metrics.podBytesServed[encoding].inc(bytes),
  };

  podDeleted(podId: string, why: "request" | "ttl"): void {
    this.metrics.podsDeleted.inc();
    this.log.info("pod deleted", { podId, why });
  }

  originRegistered(podId: string): void {
    this.log.info("origin registered", { podId });
  }

  originGone(podId: string): void {
    this.log.info("origin gone", { podId });
  }

  /** Logs the refusals counted since the last summary (at shutdown). */
  flush(): void {
    this.summary.flush();
  }
}
