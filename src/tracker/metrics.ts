import type { MetricsRegistry } from "../metrics/registry.ts";

export const REFUSALS = ["invalid", "budget", "owner", "limit"] as const;

/** The tracker's numbers on /metrics (there is no public stats page). */
export function declareTrackerMetrics(registry: MetricsRegistry, counts: () => { swarms: number; peers: number }) {
  registry.gauge({ name: "gemmapod_signal_tracker_swarms", help: "swarms with a peer on this node" }).with().track(() => counts().swarms);
  registry.gauge({ name: "gemmapod_signal_tracker_peers", help: "peers in swarms on this node" }).with().track(() => counts().peers);
  return {
    announces: registry.counter({ name: "gemmapod_signal_tracker_announces_total", help: "announces handled (answers included)" }).with(),
    relayed: registry.counter({ name: "gemmapod_signal_tracker_relayed_total", help: "offers and answers relayed to a peer", labels: { type: ["offer", "answer"] as const } }).byLabel(),
    undelivered: registry.counter({ name: "gemmapod_signal_tracker_undelivered_total", help: "offers and answers whose peer was gone" }).with(),
    scrapes: registry.counter({ name: "gemmapod_signal_tracker_scrapes_total", help: "scrape requests answered" }).with(),
    refused: registry.counter({ name: "gemmapod_signal_tracker_refused_total", help: "frames refused with a failure reason", labels: { reason: REFUSALS } }).byLabel(),
    evicted: registry.counter({ name: "gemmapod_signal_tracker_evicted_total", help: "peers dropped from a full swarm or unseen past --tracker-peer-ttl", labels: { why: ["full", "unseen"] as const } }).byLabel(),
  };
}

export type TrackerMetrics = ReturnType<typeof declareTrackerMetrics>;
