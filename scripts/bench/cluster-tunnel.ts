// The cluster suite's tunnel phase. One tunnel client (the real `tunnel` command) on
// node B, and the same requests three ways on the same processes, one after the other:
// a visitor on B (one node), a visitor on A (across: A forwards by the node-to-node
// HTTP hop to B), and straight to the local server (direct, the floor). Ratios are
// taken per run. Node CPU is both nodes' sum over the downloads, per MiB moved.
import type { FigureSet } from "./figures.ts";
import { cpuTime } from "./proc.ts";
import type { RunningServer } from "./servers.ts";
import { percentile, ratioOf } from "./stats.ts";
import { drain, latencies, MB20, mibPerSecond, startOrigin } from "./tunnel-measure.ts";

const PATHS = ["one", "two", "direct"] as const;
type Path = (typeof PATHS)[number];
type PerPath = Record<Path, number>;

export interface TunnelRun {
  /** 20 MB download, MiB/s (median of the rep's transfers). */
  down: PerPath;
  /** Small GET, ms. */
  p50: PerPath;
  p99: PerPath;
  /** CPU µs per MiB downloaded: both nodes' sum, and the `tunnel` command's. */
  nodeCpuPerMiB: Omit<PerPath, "direct">;
  clientCpuPerMiB: Omit<PerPath, "direct">;
}

const cpuMicros = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuTime(pid).userMicros + cpuTime(pid).systemMicros, 0);

/** Starts the owner's machine on `b`, measures the three paths, stops it. */
export async function measureTunnelAcross(a: RunningServer, b: RunningServer, keyPath: string, counts: { transfers: number; small: number }): Promise<TunnelRun> {
  const origin = await startOrigin(b.url, keyPath);
  try {
    const path = new URL(origin.tunnel).pathname;
    const base: Record<Path, string> = { one: `${b.url}${path}`, two: `${a.url}${path}`, direct: origin.local };
    for (const p of PATHS) {
      await latencies(`${base[p]}/small`, 200); // warm every path, big bodies too
      await drain(await fetch(`${base[p]}/big`));
    }
    const run = {} as TunnelRun;
    run.down = {} as PerPath;
    run.nodeCpuPerMiB = {} as TunnelRun["nodeCpuPerMiB"];
    run.clientCpuPerMiB = {} as TunnelRun["clientCpuPerMiB"];
    const mib = (counts.transfers * MB20) / 2 ** 20;
    for (const p of PATHS) {
      const [nodes, client] = [cpuMicros([a.pid, b.pid]), cpuMicros([origin.clientPid])];
      run.down[p] = await mibPerSecond(async () => drain(await fetch(`${base[p]}/big`)), counts.transfers);
      if (p === "direct") continue;
      run.nodeCpuPerMiB[p] = (cpuMicros([a.pid, b.pid]) - nodes) / mib;
      run.clientCpuPerMiB[p] = (cpuMicros([origin.clientPid]) - client) / mib;
    }
    run.p50 = {} as PerPath;
    run.p99 = {} as PerPath;
    for (const p of PATHS) {
      const ms = await latencies(`${base[p]}/small`, counts.small);
      run.p50[p] = percentile(ms, 0.5);
      run.p99[p] = percentile(ms, 0.99);
    }
    return run;
  } finally {
    await origin.stop();
  }
}

const WHERE: Record<Path, string> = { one: "one node (visitor and client on B)", two: "across two nodes (visitor on A, client on B)", direct: "direct, no tunnel" };

/** Defines the phase's rows (each path, then across/one, one/direct, across/direct) and returns what adds a run to them. */
export function tunnelFigures(f: FigureSet): (run: TunnelRun) => void {
  const d = (id: string, label: string, unit: string, better: "higher" | "lower", digits: number) => f.define({ id: `cluster.tunnel.${id}`, suite: "cluster", label: `tunnel ${label}`, unit, better, digits });
  /** Rows for `paths` and their ratios; returns the function that adds one run's values. */
  const rows = (key: string, what: string, unit: string, better: "higher" | "lower", digits: number, paths: readonly Path[]) => {
    const value = Object.fromEntries(paths.map((p) => [p, d(`${p}.${key}`, `${what}, ${WHERE[p]}`, unit, better, digits)])) as Partial<Record<Path, string>>;
    const pairs = ([["two", "one"], ["one", "direct"], ["two", "direct"]] as const).filter(([x, y]) => paths.includes(x) && paths.includes(y));
    const name = { one: "one node", two: "across", direct: "direct" };
    const ratios = pairs.map(([x, y]) => ({ x, y, id: d(`${key}.${x}-${y}`, `${what}, ${name[x]} / ${name[y]}`, "×", better, 2) }));
    return (v: Partial<PerPath>) => {
      for (const p of paths) f.add(value[p]!, "ours", v[p]);
      for (const r of ratios) f.add(r.id, "ours", ratioOf(v[r.x], v[r.y]));
    };
  };
  const down = rows("down", "20 MB download", "MiB/s", "higher", 0, PATHS);
  const p50 = rows("p50", "small GET p50", "ms", "lower", 3, PATHS);
  const p99 = rows("p99", "small GET p99", "ms", "lower", 3, PATHS);
  const cpu = rows("nodeCpuPerMiB", "download: node CPU per MiB (both nodes)", "µs", "lower", 0, ["one", "two"]);
  return (run) => {
    down(run.down);
    p50(run.p50);
    p99(run.p99);
    cpu(run.nodeCpuPerMiB);
  };
}
