// The PeerJS server's metrics (the connections gauge of kind "peerjs" comes with every socket kind).
import type { MetricsRegistry } from "../metrics/registry.ts";
import { CLIENT_TYPES } from "./protocol.ts";

export const REFUSALS = ["missing-parameters", "invalid-key", "invalid-id", "id-taken", "peer-limit", "rate-limit", "bad-message", "cluster"] as const;
export type Refusal = (typeof REFUSALS)[number];

const P = "gemmapod_signal_peerjs_";

export function declarePeerjsMetrics(registry: MetricsRegistry, live: { ids(): number; held(): number }) {
  registry.gauge({ name: `${P}ids`, help: "PeerJS ids held by sockets on this node." }).with().track(live.ids);
  registry.gauge({ name: `${P}held_messages`, help: "PeerJS messages on this node waiting for an id nobody holds yet." }).with().track(live.held);
  return {
    messages: registry.counter({ name: `${P}messages_total`, help: "PeerJS messages accepted from clients, by type.", labels: { type: CLIENT_TYPES } }).byLabel(),
    refused: registry.counter({ name: `${P}refused_total`, help: "PeerJS sockets and messages refused, by reason.", labels: { reason: REFUSALS } }).byLabel(),
    expired: registry.counter({ name: `${P}expired_total`, help: "EXPIRE sent to a sender whose messages found nobody, by why.", labels: { reason: ["timeout", "queue-full"] as const } }).byLabel(),
    reattached: registry.counter({ name: `${P}reattached_total`, help: "Sockets that came back with their id and token and took over from the stale one." }).with(),
    timedOut: registry.counter({ name: `${P}heartbeat_timeouts_total`, help: "PeerJS sockets closed, and their ids freed, for want of a HEARTBEAT." }).with(),
  };
}
export type PeerjsMetrics = ReturnType<typeof declarePeerjsMetrics>;
