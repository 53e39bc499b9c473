// Every metric the server exports, declared in one place with its labels'
// possible values. Names follow Prometheus practice: the gemmapod_signal_
// prefix, base units (seconds, bytes), counters ending in _total.
import { VERSION } from "../version.ts";
import { registerProcessMetrics } from "./process.ts";
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from "./registry.ts";

const P = "gemmapod_signal_";

export const FRAME_TYPES = ["offer", "answer", "candidate", "error"] as const;
/** Why a visitor's offer got no answer: refused at once, or ended unanswered. */
export const SESSION_FAILURES = ["origin_offline", "origin_error", "expired", "visitor_left", "limit"] as const;
export const LIMITS = ["connections", "ws_connect", "ws_messages", "sessions_per_socket", "sessions_per_pod", "uploads", "rondevu"] as const;
export const UPLOAD_REFUSALS = ["invalid", "unauthorized", "forbidden", "too_large", "rate_limited", "error"] as const;
export const ENCODINGS = ["identity", "gzip", "br"] as const;
export const RONDEVU_OPERATIONS = ["topics", "offer", "sessions", "answer", "poll", "leave", "health", "other"] as const;
export const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

export type FrameType = (typeof FRAME_TYPES)[number];
export type SessionFailure = (typeof SESSION_FAILURES)[number];
export type LimitName = (typeof LIMITS)[number];
export type UploadRefusal = (typeof UPLOAD_REFUSALS)[number];
export type Encoding = (typeof ENCODINGS)[number];
export type RondevuOperation = (typeof RONDEVU_OPERATIONS)[number];
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** Each label value's series, fetched once so hot paths touch a plain property. */
export type SeriesOf<C, V extends string> = Record<V, C>;

export interface ServerMetrics {
  readonly registry: MetricsRegistry;
  readonly originsOnline: Gauge;
  readonly sessionsNegotiating: Gauge;
  readonly sessionsStarted: Counter;
  readonly sessionsAnswered: Counter;
  readonly sessionsFailed: SeriesOf<Counter, SessionFailure>;
  readonly frames: SeriesOf<Counter, FrameType>;
  readonly answerLatency: Histogram;
  readonly refusals: SeriesOf<Counter, LimitName>;
  readonly podsUploaded: Counter;
  readonly podsRefused: SeriesOf<Counter, UploadRefusal>;
  readonly podsDeleted: Counter;
  readonly podBytesServed: SeriesOf<Counter, Encoding>;
  readonly podCacheHits: Counter;
  readonly podCacheMisses: Counter;
  readonly rondevuOk: SeriesOf<Counter, RondevuOperation>;
  readonly rondevuFailed: SeriesOf<Counter, RondevuOperation>;
  readonly httpResponses: SeriesOf<Counter, StatusClass>;
  readonly peersOnline: Gauge;
  readonly rooms: Gauge;
  readonly tunnelsOnline: Gauge;
  readonly tunnelResponses: SeriesOf<Counter, StatusClass>;
  /** Bytes of tunnelled responses that declared their length (streams without one are not counted). */
  readonly tunnelResponseBytes: Counter;
  readonly clusterNodes: Gauge;
  readonly clusterRouted: Counter;
  readonly clusterRedisErrors: Counter;
}

export function declareServerMetrics(registry = new MetricsRegistry()): ServerMetrics {
  registry.gauge({ name: `${P}build_info`, help: "Always 1; the version label says which build runs.", labels: { version: [VERSION] } }).with({ version: VERSION }).set(1);
  const sessionsFailed = registry.counter({ name: `${P}sessions_failed_total`, help: "Visitor offers that got no answer, by reason.", labels: { reason: SESSION_FAILURES } });
  const frames = registry.counter({ name: `${P}relayed_frames_total`, help: "Signaling frames accepted for relay between origins and visitors, by type (an offer whose origin turns out offline counts too).", labels: { type: FRAME_TYPES } });
  const refusals = registry.counter({ name: `${P}limit_refusals_total`, help: "Requests, connections and messages refused by a limit, by limit.", labels: { limit: LIMITS } });
  const podsRefused = registry.counter({ name: `${P}pods_refused_total`, help: "Pod uploads refused, by reason.", labels: { reason: UPLOAD_REFUSALS } });
  const served = registry.counter({ name: `${P}pod_served_bytes_total`, help: "Bytes of pod pages served, by content encoding.", labels: { encoding: ENCODINGS } });
  const rondevu = registry.counter({
    name: `${P}rondevu_requests_total`,
    help: "Rondevu discovery API requests, by operation and outcome.",
    labels: { operation: RONDEVU_OPERATIONS, outcome: ["ok", "error"] },
  });
  const rondevuOf = (outcome: "ok" | "error") => {
    const out = {} as SeriesOf<Counter, RondevuOperation>;
    for (const operation of RONDEVU_OPERATIONS) out[operation] = rondevu.with({ operation, outcome });
    return out;
  };
  const http = registry.counter({ name: `${P}http_responses_total`, help: "HTTP responses by status class.", labels: { code: STATUS_CLASSES } });
  const tunnelResponses = registry.counter({ name: `${P}tunnel_responses_total`, help: "Responses to requests through a tunnel (/tunnel/<name>/… or its subdomain), by status class.", labels: { code: STATUS_CLASSES } });
  const metrics: ServerMetrics = {
    registry,
    originsOnline: registry.gauge({ name: `${P}origins_online`, help: "Pods with a live origin." }).with(),
    sessionsNegotiating: registry.gauge({ name: `${P}sessions_negotiating`, help: "Visitor sessions being negotiated." }).with(),
    sessionsStarted: registry.counter({ name: `${P}sessions_started_total`, help: "Visitor offers relayed to a live origin." }).with(),
    sessionsAnswered: registry.counter({ name: `${P}sessions_answered_total`, help: "Sessions whose origin answered." }).with(),
    sessionsFailed: sessionsFailed.byLabel(),
    frames: frames.byLabel(),
    answerLatency: registry
      .histogram({
        name: `${P}answer_latency_seconds`,
        help: "Time from a visitor's offer to its origin's answer, in seconds.",
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      })
      .with(),
    refusals: refusals.byLabel(),
    podsUploaded: registry.counter({ name: `${P}pods_uploaded_total`, help: "Pods verified and stored by POST /pods." }).with(),
    podsRefused: podsRefused.byLabel(),
    podsDeleted: registry.counter({ name: `${P}pods_deleted_total`, help: "Pods taken down by their owner, an admin or --pod-ttl." }).with(),
    podBytesServed: served.byLabel(),
    podCacheHits: registry.counter({ name: `${P}pod_cache_hits_total`, help: "Pod pages served from the in-memory cache." }).with(),
    podCacheMisses: registry.counter({ name: `${P}pod_cache_misses_total`, help: "Pod pages read from the registry because the cache lacked them." }).with(),
    rondevuOk: rondevuOf("ok"),
    rondevuFailed: rondevuOf("error"),
    httpResponses: http.byLabel(),
    peersOnline: registry.gauge({ name: `${P}peers_online`, help: "Signed-in /.webrtc peers in rooms." }).with(),
    rooms: registry.gauge({ name: `${P}rooms`, help: "/.webrtc rooms with at least one peer." }).with(),
    tunnelsOnline: registry.gauge({ name: `${P}tunnels_online`, help: "Tunnel names with a connected client on this node." }).with(),
    tunnelResponses: tunnelResponses.byLabel(),
    tunnelResponseBytes: registry.counter({ name: `${P}tunnel_response_bytes_total`, help: "Bytes of tunnelled responses that declared a Content-Length." }).with(),
    clusterNodes: registry.gauge({ name: `${P}cluster_nodes`, help: "Cluster nodes this node sees alive, itself included (0 without --cluster)." }).with(),
    clusterRouted: registry.counter({ name: `${P}cluster_routed_messages_total`, help: "Messages this node routed to other nodes through Redis." }).with(),
    clusterRedisErrors: registry.counter({ name: `${P}cluster_redis_errors_total`, help: "Redis calls that failed or were refused (the node went on serving local traffic)." }).with(),
  };
  registerProcessMetrics(registry);
  return metrics;
}
