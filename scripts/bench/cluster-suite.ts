// Cluster: what routing /signal through Redis costs. The relay suite's load (4 origins,
// 16 visitors, sessions and long-lived trickle) on one node without --cluster, and on two
// cluster nodes with every origin on one and every visitor on the other, so that every
// relayed message crosses Redis. Node CPU is the sum of both nodes; Redis commands and
// Redis CPU come from INFO commandstats / INFO cpu read around each measured phase. Last,
// Redis is restarted in the middle of a sessions phase. Between the two, the tunnel
// phase (cluster-tunnel.ts) on the same two nodes: one node vs across vs direct.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REDIS_SERVER, redisCounters, startClusterNode, startRedis, untilClusterOk } from "./cluster-nodes.ts";
import { measureTunnelAcross, tunnelFigures } from "./cluster-tunnel.ts";
import { targets } from "./figures.ts";
import { runJsonChild } from "./processes.ts";
import type { RelayLoadOptions, RelayLoadResult } from "./relay-load.ts";
import { startServer, type RunningServer } from "./servers.ts";
import { ratioOf } from "./stats.ts";
import { forEachRun, type SuiteContext } from "./suite.ts";

const LOAD = join(import.meta.dir, "relay-load.ts");
const ORIGINS = 4;
const VISITORS = 16;

export async function clusterSuite(ctx: SuiteContext): Promise<void> {
  const ours = ctx.specs.find((s) => s.name === "ours");
  if (!ours) return;
  if (!existsSync(REDIS_SERVER)) return void ctx.notes.push("cluster: skipped, install the Debian package redis-server");
  const f = ctx.figures;
  const d = (id: string, label: string, unit: string, better: "higher" | "lower", digits: number, target?: { text: string; met: ReturnType<typeof targets.oursAtMost> }) =>
    f.define({ id: `cluster.${id}`, suite: "cluster", label, unit, better, digits, target });
  const twice = { text: "≤ 2× one node", met: targets.oursAtMost(2) };
  const ids = {
    oneSessions: d("one.sessionsPerSec", "one node: sessions/s", "1/s", "higher", 0),
    twoSessions: d("two.sessionsPerSec", "across two nodes: sessions/s", "1/s", "higher", 0),
    oneCpu: d("one.cpuPerMessage", "one node: node CPU per relayed message", "µs", "lower", 2),
    twoCpu: d("two.cpuPerMessage", "across two nodes: node CPU per relayed message (both nodes)", "µs", "lower", 2),
    cpuRatio: d("cpuRatio", "node CPU per relayed message, across / one node", "×", "lower", 2, twice),
    oneTrickle: d("one.trickleCpu", "one node, long-lived sessions: node CPU per relayed message", "µs", "lower", 2),
    twoTrickle: d("two.trickleCpu", "across two nodes, long-lived sessions: node CPU per relayed message", "µs", "lower", 2),
    trickleRatio: d("trickleRatio", "long-lived sessions: node CPU per relayed message, across / one node", "×", "lower", 2, twice),
    twoP50: d("two.latencyP50", "across two nodes: offer→answer p50", "ms", "lower", 2),
    oneP50: d("one.latencyP50", "one node: offer→answer p50", "ms", "lower", 2),
    redisCalls: d("two.redisCommandsPerSession", "across two nodes: Redis commands per session (inside scripts included)", "", "lower", 1),
    redisCpu: d("two.redisCpuPerSession", "across two nodes: Redis CPU per session", "µs", "lower", 1),
    redisCpuMessage: d("two.redisCpuPerMessage", "across two nodes, long-lived sessions: Redis CPU per relayed message", "µs", "lower", 2),
    restartFailed: d("two.restartFailed", "Redis restart mid-phase: sessions failed (told `origin offline` at once, retried)", "", "lower", 0),
    restartGap: d("two.restartGapMs", "Redis restart: from Redis back to both nodes ok again", "ms", "lower", 0),
  };
  const addTunnel = tunnelFigures(f);
  const logs = join(ctx.outDir, "logs");
  const load = (options: Omit<RelayLoadOptions, "origins" | "concurrency" | "seconds" | "warmupSessions" | "maxSessions">, sessions: boolean) =>
    runJsonChild<RelayLoadResult>(
      [
        process.execPath,
        LOAD,
        JSON.stringify({ ...options, origins: ORIGINS, concurrency: VISITORS, seconds: ctx.seconds, warmupSessions: sessions ? (ctx.quick ? 100 : 300) : 0, maxSessions: sessions ? 500_000 : 0 }),
      ],
      (ctx.seconds + 60) * 1000,
    );
  const runs: unknown[] = [];
  const failed = (what: string, r: RelayLoadResult) => r.failures > 0 && ctx.notes.push(`cluster ${what}: ${r.failures} failures, first: ${r.firstFailure}`);

  await forEachRun(ctx, [ours], async (spec, rep) => {
    const single = await startServer(spec, join(logs, "single"));
    let one: { sessions: RelayLoadResult; trickle: RelayLoadResult };
    try {
      const common = { wsUrl: single.wsUrl, serverPid: single.pid };
      one = { sessions: await load({ ...common, mode: "sessions" }, true), trickle: await load({ ...common, mode: "trickle" }, false) };
    } finally {
      await single.stop();
    }
    let redis = await startRedis(logs);
    const nodes: RunningServer[] = [];
    try {
      nodes.push(await startClusterNode(redis.url, join(logs, "node-a")), await startClusterNode(redis.url, join(logs, "node-b")));
      const [a, b] = nodes as [RunningServer, RunningServer];
      await untilClusterOk(a.url, 2);
      await untilClusterOk(b.url, 2);
      const common = { wsUrl: a.wsUrl, originWsUrl: b.wsUrl, serverPid: a.pid, otherServerPids: [b.pid] };
      const before = await redisCounters(redis.url);
      const sessions = await load({ ...common, mode: "sessions" }, true);
      const middle = await redisCounters(redis.url);
      const trickle = await load({ ...common, mode: "trickle" }, false);
      const after = await redisCounters(redis.url);
      const tunnel = await measureTunnelAcross(a, b, join(ctx.outDir, "cluster-tunnel.key"), { transfers: ctx.quick ? 2 : 10, small: ctx.quick ? 300 : 2000 });
      // A 4 s sessions phase; Redis is killed 1.5 s after it starts and back 300 ms later, same port.
      const restarting = runJsonChild<RelayLoadResult>(
        [process.execPath, LOAD, JSON.stringify({ ...common, mode: "sessions", origins: ORIGINS, concurrency: VISITORS, seconds: 4, warmupSessions: 0, maxSessions: 500_000 })],
        70_000,
      );
      await Bun.sleep(1500);
      await redis.stop();
      await Bun.sleep(300);
      redis = await startRedis(logs, Number(new URL(redis.url).port));
      const back = performance.now();
      await untilClusterOk(a.url, 2);
      await untilClusterOk(b.url, 2);
      const gapMs = performance.now() - back;
      const restart = await restarting;
      failed("one node, sessions", one.sessions);
      failed("one node, trickle", one.trickle);
      failed("two nodes, sessions", sessions);
      failed("two nodes, trickle", trickle);
      // The warm-up sessions also went through Redis: count them with the measured ones.
      const allSessions = sessions.sessions + (ctx.quick ? 100 : 300);
      runs.push({ rep, one, two: { sessions, trickle, restart }, redis: { before, middle, after }, tunnel });
      addTunnel(tunnel);
      f.add(ids.restartFailed, "ours", restart.failures);
      f.add(ids.restartGap, "ours", gapMs);
      f.add(ids.oneSessions, "ours", one.sessions.sessionsPerSec);
      f.add(ids.twoSessions, "ours", sessions.sessionsPerSec);
      f.add(ids.oneCpu, "ours", one.sessions.serverCpuMicrosPerMessage);
      f.add(ids.twoCpu, "ours", sessions.serverCpuMicrosPerMessage);
      f.add(ids.cpuRatio, "ours", ratioOf(sessions.serverCpuMicrosPerMessage, one.sessions.serverCpuMicrosPerMessage));
      f.add(ids.oneTrickle, "ours", one.trickle.serverCpuMicrosPerMessage);
      f.add(ids.twoTrickle, "ours", trickle.serverCpuMicrosPerMessage);
      f.add(ids.trickleRatio, "ours", ratioOf(trickle.serverCpuMicrosPerMessage, one.trickle.serverCpuMicrosPerMessage));
      f.add(ids.oneP50, "ours", one.sessions.latencyP50Ms);
      f.add(ids.twoP50, "ours", sessions.latencyP50Ms);
      f.add(ids.redisCalls, "ours", (middle.calls - before.calls) / allSessions);
      f.add(ids.redisCpu, "ours", (middle.cpuMicros - before.cpuMicros) / allSessions);
      f.add(ids.redisCpuMessage, "ours", trickle.relayedMessages ? (after.cpuMicros - middle.cpuMicros) / trickle.relayedMessages : undefined);
    } finally {
      for (const n of nodes) await n.stop();
      await redis.stop();
    }
  });
  ctx.details.cluster = { origins: ORIGINS, visitors: VISITORS, seconds: ctx.seconds, runs };
}
