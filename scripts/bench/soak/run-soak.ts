// The chaos soak: three nodes on Redis, Postgres and S3, steady traffic on every protocol,
// faults one after another, and a report of what failed where. Used by
// `bun run bench -- --only soak` (10 minutes) and test/cluster/soak.test.ts (60 s).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { faultKinds, runFaults } from "./faults.ts";
import { OpLog } from "./op-log.ts";
import { startSoakCluster } from "./soak-cluster.ts";
import { byProtocol, type SoakReport } from "./soak-report.ts";
import { peerjsTraffic } from "./traffic-peerjs.ts";
import { peersTraffic } from "./traffic-peers.ts";
import { podTraffic } from "./traffic-pods.ts";
import { rondevuTraffic } from "./traffic-rondevu.ts";
import { signalTraffic } from "./traffic-signal.ts";
import { trackerTraffic } from "./traffic-tracker.ts";
import { tunnelTraffic } from "./traffic-tunnel.ts";
import { ywebrtcTraffic } from "./traffic-ywebrtc.ts";
import type { TrafficContext, TrafficGenerator } from "./traffic.ts";

/** Every protocol's traffic: add a protocol's generator here. */
export function allTraffic(): TrafficGenerator[] {
  return [signalTraffic(), peersTraffic(), peerjsTraffic(), ywebrtcTraffic(), trackerTraffic(), tunnelTraffic(), rondevuTraffic(), podTraffic()];
}

export interface SoakOptions {
  seconds: number;
  /** Between fault starts (default: 15 s; shorter runs pack them closer). */
  spacingMs?: number;
  traffic?: TrafficGenerator[];
  onProgress?: (line: string) => void;
}

const MiB = 1024 * 1024;

/** Null when Postgres or S3 is not installed. */
export async function runSoak(options: SoakOptions): Promise<SoakReport | null> {
  const cluster = await startSoakCluster();
  if (!cluster) return null;
  const traffic = options.traffic ?? allTraffic();
  const dir = mkdtempSync(join(tmpdir(), "gemmapod-soak-"));
  const log = new OpLog();
  const ctx: TrafficContext = { nodes: cluster.nodes.map((n) => n.url), log, dir };
  const say = options.onProgress ?? (() => {});
  try {
    for (const g of traffic) await g.start?.(ctx);
    const durationMs = options.seconds * 1000;
    // RSS of each node at the start and every fifth of the run: a trend, not just two points.
    const rss: number[][] = cluster.nodes.map((_, i) => [cluster.rss(i) ?? 0]);
    const sampling = setInterval(() => cluster.nodes.forEach((_, i) => rss[i]!.push(cluster.rss(i) ?? 0)), durationMs / 5);
    const t0 = log.now();
    let running = true;
    const loops = traffic.map(async (g) => {
      while (running) {
        if (log.running(g.protocol) < (g.maxInFlight ?? 20)) void log.run(g.protocol, () => g.op(ctx));
        await Bun.sleep(g.everyMs);
      }
    });
    const faults = runFaults(faultKinds(cluster, traffic, ctx), log, { firstAtMs: t0 + 5000, spacingMs: options.spacingMs ?? 15_000, untilMs: t0 + durationMs - 12_000 });
    const progress = setInterval(() => say(`soak: ${Math.round((log.now() - t0) / 1000)} s, ${log.ops.length} operations`), 30_000);
    const windows = await faults;
    await Bun.sleep(Math.max(0, t0 + durationMs - log.now()));
    running = false;
    clearInterval(progress);
    clearInterval(sampling);
    await Promise.all(loops);
    await log.settled();
    // Before the final check, which reads every pod through one node.
    const rssEnd = cluster.nodes.map((_, i) => cluster.rss(i) ?? 0);
    const pods = { stored: 0, lost: 0 };
    for (const g of traffic) {
      const found = await g.lost?.(ctx);
      pods.stored += found?.stored ?? 0;
      pods.lost += found?.lost ?? 0;
    }
    return {
      seconds: options.seconds,
      protocols: byProtocol(log.ops, windows),
      nodes: cluster.nodes.map((n, i) => ({ node: i, rssMiB: [...rss[i]!.slice(0, 5), rssEnd[i]!].map((b) => b / MiB), restarts: n.restarts })),
      faults: windows,
      pods,
    };
  } finally {
    for (const g of traffic) await g.stop?.().catch(() => undefined);
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
