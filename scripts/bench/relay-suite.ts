// Relay: sessions/s, relayed messages/s, offer->answer latency and server CPU
// per relayed message, 4 origins, 16 and 64 concurrent visitors.
import { targets } from "./figures.ts";
import { runJsonChild } from "./processes.ts";
import type { RelayLoadOptions, RelayLoadResult } from "./relay-load.ts";
import { startServer } from "./servers.ts";
import { OFFER_SDP_BYTES } from "./signal-payloads.ts";
import { forEachRun, type SuiteContext } from "./suite.ts";
import { join } from "node:path";

const ORIGINS = 4;
const CONCURRENCY = [16, 64] as const;
const LOAD = join(import.meta.dir, "relay-load.ts");

const cpuTarget = {
  text: "≤ 0.4× reference, ≤ 1.3× bare",
  met: targets.all(targets.ratioAtMost(0.4, "reference"), targets.ratioAtMost(1.3, "bare")),
};

/** The server's own code, without the kernel's socket and loopback TCP work. */
export function userMicrosPerMessage(r: Pick<RelayLoadResult, "serverCpuMs" | "serverSystemCpuMs" | "relayedMessages">): number | undefined {
  if (r.serverCpuMs === undefined || r.serverSystemCpuMs === undefined || r.relayedMessages === 0) return undefined;
  return ((r.serverCpuMs - r.serverSystemCpuMs) * 1000) / r.relayedMessages;
}

export async function relaySuite(ctx: SuiteContext): Promise<void> {
  const f = ctx.figures;
  const ids = CONCURRENCY.map((c) => {
    const d = (id: string, label: string, unit: string, better: "higher" | "lower", digits: number, target?: typeof cpuTarget) =>
      f.define({ id: `relay.c${c}.${id}`, suite: "relay", label: `${label}, ${c} visitors`, unit, better, digits, target });
    return {
      c,
      sessionsPerSec: d("sessionsPerSec", "sessions/s", "1/s", "higher", 0),
      messagesPerSec: d("messagesPerSec", "relayed messages/s", "1/s", "higher", 0),
      p50: d("latencyP50", "offer→answer p50", "ms", "lower", 2),
      p99: d("latencyP99", "offer→answer p99", "ms", "lower", 2),
      cpu: d("cpuPerMessage", "server CPU per relayed message", "µs", "lower", 2, cpuTarget),
      userCpu: d("userCpuPerMessage", "server user-space CPU per relayed message", "µs", "lower", 2, cpuTarget),
      trickleRate: d("trickle.messagesPerSec", "long-lived sessions: relayed messages/s", "1/s", "higher", 0),
      trickleCpu: d("trickle.cpuPerMessage", "long-lived sessions: server CPU per relayed message", "µs", "lower", 2, cpuTarget),
      trickleUserCpu: d("trickle.userCpuPerMessage", "long-lived sessions: server user-space CPU per relayed message", "µs", "lower", 2, cpuTarget),
    };
  });
  const runs: unknown[] = [];
  const load = async (options: Omit<RelayLoadOptions, "origins">) =>
    runJsonChild<RelayLoadResult>([process.execPath, LOAD, JSON.stringify({ ...options, origins: ORIGINS })], (options.seconds + 60) * 1000);

  await forEachRun(ctx, ctx.specs, async (spec, rep) => {
    const server = await startServer(spec, join(ctx.outDir, "logs"));
    try {
      for (const id of ids) {
        const common = { wsUrl: server.wsUrl, concurrency: id.c, seconds: ctx.seconds, serverPid: server.pid };
        const sessions = await load({ ...common, mode: "sessions", warmupSessions: ctx.quick ? 100 : 300, maxSessions: 500_000 });
        const trickle = await load({ ...common, mode: "trickle", warmupSessions: 0, maxSessions: 0 });
        runs.push({ server: spec.name, rep, concurrency: id.c, sessions, trickle });
        for (const r of [sessions, trickle]) {
          if (r.failures > 0) ctx.notes.push(`relay ${r.mode}, ${spec.name}, ${id.c} visitors: ${r.failures} failures, first: ${r.firstFailure}`);
        }
        f.add(id.sessionsPerSec, spec.name, sessions.sessionsPerSec);
        f.add(id.messagesPerSec, spec.name, sessions.messagesPerSec);
        f.add(id.p50, spec.name, sessions.latencyP50Ms);
        f.add(id.p99, spec.name, sessions.latencyP99Ms);
        f.add(id.cpu, spec.name, sessions.serverCpuMicrosPerMessage);
        f.add(id.userCpu, spec.name, userMicrosPerMessage(sessions));
        f.add(id.trickleRate, spec.name, trickle.messagesPerSec);
        f.add(id.trickleCpu, spec.name, trickle.serverCpuMicrosPerMessage);
        f.add(id.trickleUserCpu, spec.name, userMicrosPerMessage(trickle));
      }
    } finally {
      await server.stop();
    }
  });
  ctx.details.relay = { origins: ORIGINS, offerSdpBytes: OFFER_SDP_BYTES, seconds: ctx.seconds, runs };
}
