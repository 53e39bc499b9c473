// The tunnel: throughput of a 20 MB body and the latency of small requests, each
// next to the same request made straight to the local server, and the broker's
// RSS with 100 concurrent 20 MB transfers. In this suite's rows "ours" is through
// the tunnel and "bare" is the local server reached directly. Broker, local server
// and the `tunnel` command each run in their own process, as on an owner's machine.
import { join } from "node:path";
import { targets } from "./figures.ts";
import { cpuTime, rssKiB } from "./proc.ts";
import { startServer, type ServerSpec } from "./servers.ts";
import { percentile } from "./stats.ts";
import type { SuiteContext } from "./suite.ts";
import { drain, latencies, MB20, mibPerSecond, startOrigin } from "./tunnel-measure.ts";

export async function tunnelSuite(ctx: SuiteContext): Promise<void> {
  const ours = ctx.specs.find((s) => s.name === "ours");
  if (!ours) return void ctx.notes.push("tunnel: needs ours; skipped");
  const spec: ServerSpec = { ...ours, command: (port) => [...ours.command(port), "--tunnel-max-concurrent", "1000"] };
  const f = ctx.figures;
  const down = f.define({ id: "tunnel.down", suite: "tunnel", label: "20 MB download (bare = direct)", unit: "MiB/s", better: "higher", digits: 0, target: { text: "≥ 0.5× direct", met: targets.ratioAtLeast(0.5, "bare") } });
  const up = f.define({ id: "tunnel.up", suite: "tunnel", label: "20 MB upload (bare = direct)", unit: "MiB/s", better: "higher", digits: 0, target: { text: "≥ 0.5× direct", met: targets.ratioAtLeast(0.5, "bare") } });
  const p50 = f.define({ id: "tunnel.p50", suite: "tunnel", label: "small GET p50 (bare = direct)", unit: "ms", better: "lower", digits: 3 });
  const p99 = f.define({ id: "tunnel.p99", suite: "tunnel", label: "small GET p99 (bare = direct)", unit: "ms", better: "lower", digits: 3 });
  const added50 = f.define({ id: "tunnel.added50", suite: "tunnel", label: "added latency p50", unit: "ms", better: "lower", digits: 3, noRatio: true, target: { text: "≤ 0.3 ms", met: targets.oursAtMost(0.3) } });
  const added99 = f.define({ id: "tunnel.added99", suite: "tunnel", label: "added latency p99", unit: "ms", better: "lower", digits: 3, noRatio: true, target: { text: "≤ 2 ms", met: targets.oursAtMost(2) } });
  const cpuDown = f.define({ id: "tunnel.cpuDown", suite: "tunnel", label: "broker CPU per GiB downloaded", unit: "ms", better: "lower", digits: 0, noRatio: true });
  const cpuUp = f.define({ id: "tunnel.cpuUp", suite: "tunnel", label: "broker CPU per GiB uploaded", unit: "ms", better: "lower", digits: 0, noRatio: true });
  const busy99 = f.define({ id: "tunnel.busy99", suite: "tunnel", label: "small GET p99 during a 1 GiB download (bare = direct)", unit: "ms", better: "lower", digits: 3 });
  const busyAdded99 = f.define({ id: "tunnel.busyAdded99", suite: "tunnel", label: "added latency p99 during a 1 GiB download", unit: "ms", better: "lower", digits: 3, noRatio: true, target: { text: "≤ 5 ms", met: targets.oursAtMost(5) } });
  const rss = f.define({ id: "tunnel.rss", suite: "tunnel", label: "broker RSS growth, 100 × 20 MB at once", unit: "MiB", better: "lower", digits: 1, noRatio: true });
  const smallCount = ctx.quick ? 300 : 2000;
  const times = ctx.quick ? 2 : 5;
  const runs: unknown[] = [];

  for (let rep = 1; rep <= ctx.reps; rep++) {
    process.stderr.write(`  rep ${rep}/${ctx.reps}: tunnel\n`);
    const broker = await startServer(spec, join(ctx.outDir, "logs"));
    const origin = await startOrigin(broker.url, join(ctx.outDir, `tunnel-${rep}.key`));
    try {
      const paths = { tunnel: origin.tunnel, direct: origin.local };
      await latencies(`${paths.tunnel}/small`, 200); // warm both paths
      await latencies(`${paths.direct}/small`, 200);
      const [viaDown, directDown] = [await mibPerSecond(async () => drain(await fetch(`${paths.tunnel}/big`)), times), await mibPerSecond(async () => drain(await fetch(`${paths.direct}/big`)), times)];
      const body = new Uint8Array(MB20);
      const sink = (base: string) => async () => Number(await (await fetch(`${base}/sink`, { method: "POST", body })).text());
      const [viaUp, directUp] = [await mibPerSecond(sink(paths.tunnel), times), await mibPerSecond(sink(paths.direct), times)];
      const [cpuPerGiBDown, cpuPerGiBUp] = [await brokerCpuPerGiB(broker.pid, paths.tunnel, "down"), await brokerCpuPerGiB(broker.pid, paths.tunnel, "up")];
      const viaLat = await latencies(`${paths.tunnel}/small`, smallCount);
      const directLat = await latencies(`${paths.direct}/small`, smallCount);
      const [t50, t99, d50, d99] = [percentile(viaLat, 0.5), percentile(viaLat, 0.99), percentile(directLat, 0.5), percentile(directLat, 0.99)];

      const busy = await duringBigDownload(paths, smallCount);

      const baseline = rssKiB(broker.pid);
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(broker.pid))), 25);
      const moved = await Promise.all(Array.from({ length: 100 }, async () => drain(await fetch(`${paths.tunnel}/big`))));
      clearInterval(sampler);
      if (moved.some((n) => n !== MB20)) throw new Error("a concurrent transfer came back short");
      const growth = (peak - baseline) / 1024;

      f.add(down, "ours", viaDown);
      f.add(down, "bare", directDown);
      f.add(up, "ours", viaUp);
      f.add(up, "bare", directUp);
      f.add(p50, "ours", t50);
      f.add(p50, "bare", d50);
      f.add(p99, "ours", t99);
      f.add(p99, "bare", d99);
      f.add(added50, "ours", t50 - d50);
      f.add(added99, "ours", t99 - d99);
      f.add(rss, "ours", growth);
      f.add(cpuDown, "ours", cpuPerGiBDown);
      f.add(cpuUp, "ours", cpuPerGiBUp);
      f.add(busy99, "ours", busy.t99);
      f.add(busy99, "bare", busy.d99);
      f.add(busyAdded99, "ours", busy.t99 - busy.d99);
      runs.push({ rep, viaDown, directDown, viaUp, directUp, t50, t99, d50, d99, rssBaselineMiB: baseline / 1024, rssGrowthMiB: growth, cpuPerGiBDown, cpuPerGiBUp, busy });
    } finally {
      await origin.stop();
      await broker.stop();
    }
  }
  ctx.details.tunnel = { smallRequests: smallCount, transfersPerRep: times, runs };
}

/**
 * Small GETs through the tunnel and direct, in turn, while the tunnel carries a 1 GiB download
 * (read as fast as it comes): what a small answer waits behind a big body. Stops at `count`
 * pairs or when the download ends.
 */
async function duringBigDownload(paths: { tunnel: string; direct: string }, count: number): Promise<{ t99: number; d99: number; pairs: number }> {
  let received = 0;
  let done = false;
  const download = fetch(`${paths.tunnel}/stream?bytes=${2 ** 30}`).then(async (r) => {
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) received += chunk.byteLength;
    done = true;
  });
  while (received < 32 * 2 ** 20 && !done) await Bun.sleep(5);
  const via: number[] = [];
  const direct: number[] = [];
  while (via.length < count && !done) {
    via.push(...(await latencies(`${paths.tunnel}/small`, 1)));
    direct.push(...(await latencies(`${paths.direct}/small`, 1)));
  }
  await download;
  if (received !== 2 ** 30) throw new Error(`the 1 GiB download came back with ${received} bytes`);
  return { t99: percentile(via, 0.99), d99: percentile(direct, 0.99), pairs: via.length };
}

/** The broker's CPU (user + system, ms) for one GiB through the tunnel, one way: 10 ms ticks over ~1.5 s. */
async function brokerCpuPerGiB(pid: number, tunnel: string, way: "down" | "up"): Promise<number> {
  const used = () => {
    const t = cpuTime(pid);
    return (t.userMicros + t.systemMicros) / 1000;
  };
  const before = used();
  let moved = 0;
  if (way === "down") moved = await drain(await fetch(`${tunnel}/stream?bytes=${2 ** 30}`));
  else {
    // Eight of 128 MiB, Bun.serve's default cap on a request body (the local server's).
    const body = new Uint8Array(2 ** 27);
    for (let i = 0; i < 8; i++) moved += Number(await (await fetch(`${tunnel}/sink`, { method: "POST", body })).text());
  }
  if (moved !== 2 ** 30) throw new Error(`the 1 GiB ${way}load moved ${moved} bytes`);
  return used() - before;
}
