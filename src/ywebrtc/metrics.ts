// What /metrics says about y-webrtc signaling (its open sockets are counted with every kind's).
import type { MetricsRegistry } from "../metrics/registry.ts";

export const Y_REFUSALS = ["token", "rate", "invalid", "binary", "too_large", "not_subscribed", "topics_per_socket", "subscribers_per_topic", "queue"] as const;
export type YRefusal = (typeof Y_REFUSALS)[number];

export function yWebrtcMetrics(registry: MetricsRegistry, topics: () => number) {
  const P = "gemmapod_signal_ywebrtc_";
  registry.gauge({ name: `${P}topics`, help: "y-webrtc topics (rooms) with a subscriber on this node." }).with().track(topics);
  return {
    publishes: registry.counter({ name: `${P}publishes_total`, help: "y-webrtc publishes relayed." }).with(),
    fanoutMessages: registry.counter({ name: `${P}fanout_messages_total`, help: "Messages the relayed y-webrtc publishes were delivered as (one per subscriber, on every node)." }).with(),
    fanoutBytes: registry.counter({ name: `${P}fanout_bytes_total`, help: "Size of those messages, in characters (their bytes when ASCII, as y-webrtc signals are)." }).with(),
    refusals: registry.counter({ name: `${P}refusals_total`, help: "y-webrtc connections and frames refused, by reason.", labels: { reason: Y_REFUSALS } }).byLabel(),
  };
}

export type YWebrtcMetrics = ReturnType<typeof yWebrtcMetrics>;
