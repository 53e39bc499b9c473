// Peers (/.webrtc): server CPU per relayed message for 8 pairs negotiating back
// to back, and presence fan-out for 500 peers entering one room, for our server
// and the bare relay; with the /signal relay under its own long-lived load, on
// the same servers, side by side.
import { join } from "node:path";
import { targets } from "./figures.ts";
import type { PeersLoadOptions, PeersLoadResult } from "./peers-load.ts";
import { runJsonChild } from "./processes.ts";
import type { RelayLoadOptions, RelayLoadResult } from "./relay-load.ts";
import { userMicrosPerMessage } from "./relay-suite.ts";
import { startServer } from "./servers.ts";
import { forEachRun, type SuiteContext } from "./suite.ts";

const PAIRS = 8;
const CROWD = 500;
const PEERS_LOAD = join(import.meta.dir, "peers-load.ts");
const RELAY_LOAD = join(import.meta.dir, "relay-load.ts");

const bareTarget = { text: "≤ 1.1× bare", met: targets.ratioAtMost(1.1, "bare") };

export async function peersSuite(ctx: SuiteContext): Promise<void> {
  const f = ctx.figures;
  const d = (id: string, label: string, unit: string, better: "higher" | "lower", digits: number, target?: typeof bareTarget) =>
    f.define({ id: `peers.${id}`, suite: "peers", label, unit, better, digits, target });
  const ids = {
    rate: d("relay.messagesPerSec", `/.webrtc relay: relayed messages/s, ${PAIRS} pairs`, "1/s", "higher", 0),
    cpu: d("relay.cpuPerMessage", `/.webrtc relay: server CPU per relayed message, ${PAIRS} pairs`, "µs", "lower", 2, bareTarget),
    userCpu: d("relay.userCpuPerMessage", `/.webrtc relay: server user-space CPU per relayed message, ${PAIRS} pairs`, "µs", "lower", 2, bareTarget),
    signalRate: d("signal.messagesPerSec", `/signal relay (long-lived sessions): relayed messages/s, ${PAIRS} sessions`, "1/s", "higher", 0),
    signalCpu: d("signal.cpuPerMessage", `/signal relay (long-lived sessions): server CPU per relayed message, ${PAIRS} sessions`, "µs", "lower", 2),
    presenceCpu: d("presence.cpuPerNotice", `presence: server CPU per join notice, ${CROWD} peers entering one room`, "µs", "lower", 2),
    presenceTotal: d("presence.cpuMs", `presence: server CPU for ${CROWD} peers entering one room`, "ms", "lower", 0),
    presenceWall: d("presence.wallMs", `presence: until every one of ${CROWD} peers knows all others`, "ms", "lower", 0),
  };
  const runs: unknown[] = [];
  const peersLoad = (options: PeersLoadOptions) => runJsonChild<PeersLoadResult>([process.execPath, PEERS_LOAD, JSON.stringify(options)], (options.seconds + 60) * 1000);
  const relayLoad = (options: RelayLoadOptions) => runJsonChild<RelayLoadResult>([process.execPath, RELAY_LOAD, JSON.stringify(options)], (options.seconds + 60) * 1000);
  // The reference has no /.webrtc.
  const specs = ctx.specs.filter((s) => s.name !== "reference");

  await forEachRun(ctx, specs, async (spec, rep) => {
    const server = await startServer(spec, join(ctx.outDir, "logs"));
    try {
      const common = { url: server.url, pairs: PAIRS, peers: CROWD, seconds: ctx.seconds, signs: spec.name === "ours", serverPid: server.pid };
      const relay = await peersLoad({ ...common, mode: "relay" });
      const presence = await peersLoad({ ...common, mode: "presence" });
      const signal = await relayLoad({ wsUrl: server.wsUrl, mode: "trickle", origins: 4, concurrency: PAIRS, warmupSessions: 0, maxSessions: 0, seconds: ctx.seconds, serverPid: server.pid });
      runs.push({ server: spec.name, rep, relay, presence, signal });
      if (presence.relayedMessages !== (CROWD * (CROWD - 1)) / 2) ctx.notes.push(`peers presence, ${spec.name}: ${presence.relayedMessages} join notices, expected ${(CROWD * (CROWD - 1)) / 2}`);
      f.add(ids.rate, spec.name, relay.messagesPerSec);
      f.add(ids.cpu, spec.name, relay.serverCpuMicrosPerMessage);
      f.add(ids.userCpu, spec.name, userMicrosPerMessage(relay));
      f.add(ids.signalRate, spec.name, signal.messagesPerSec);
      f.add(ids.signalCpu, spec.name, signal.serverCpuMicrosPerMessage);
      f.add(ids.presenceCpu, spec.name, presence.serverCpuMicrosPerMessage);
      f.add(ids.presenceTotal, spec.name, presence.serverCpuMs);
      f.add(ids.presenceWall, spec.name, presence.elapsedMs);
    } finally {
      await server.stop();
    }
  });
  ctx.notes.push(`peers: ours verifies every sign-in (Ed25519) and checks every frame; the bare relay believes any auth and passes frames as they came`);
  ctx.details.peers = { pairs: PAIRS, crowd: CROWD, seconds: ctx.seconds, runs };
}
