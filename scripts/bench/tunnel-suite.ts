// The tunnel: throughput of a 20 MB body and the latency of small requests, each
// next to the same request made straight to the local server, and the broker's
// RSS with 100 concurrent 20 MB transfers. In this suite's rows "ours" is through
// the tunnel and "bare" is the local server reached directly. Broker, local server
// and the `tunnel` command each run in their own process, as on an owner's machine.
import { join } from "node:path";
import { rssKiB } from "./proc.ts";
import { spawnTracked, stopProcess } from "./processes.ts";
import { ROOT, startServer, type ServerSpec } from "./servers.ts";
import { percentile } from "./stats.ts";
import { targets } from "./figures.ts";
import type { SuiteContext } from "./suite.ts";

const MB20 = 20 * 1024 * 1024;

/** Spawns `command` and resolves with the first match of `pattern` in its output. */
async function spawnUntil(command: string[], pattern: RegExp): Promise<{ match: RegExpExecArray; stop(): Promise<void> }> {
  const proc = spawnTracked(command, { stdout: "pipe", stderr: "inherit" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  const deadline = Date.now() + 15_000;
  let match: RegExpExecArray | null = null;
  while (!(match = pattern.exec(text))) {
    if (Date.now() > deadline) throw new Error(`${command.join(" ")} did not start: ${text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${command.join(" ")} exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
  // Keep draining (the tunnel client logs every request) so it never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return { match, stop: () => stopProcess(proc) };
}

/** The owner's machine: the local server and, in its own process, the `tunnel` command. */
async function startOrigin(brokerUrl: string, keyPath: string): Promise<{ local: string; tunnel: string; stop(): Promise<void> }> {
  const local = await spawnUntil([process.execPath, join(import.meta.dir, "tunnel-local.ts")], /local ready (\S+)/);
  const localUrl = local.match[1]!;
  const client = await spawnUntil(
    [process.execPath, join(ROOT, "src/cli.ts"), "tunnel", "--server", brokerUrl, "--name", `bench-${process.pid}`, "--to", localUrl, "--key", keyPath],
    /is live at (\S+)/,
  );
  return {
    local: localUrl,
    tunnel: client.match[1]!,
    async stop() {
      await client.stop();
      await local.stop();
    },
  };
}

/** Reads a body to the end without keeping it; returns its size. */
async function drain(response: Response): Promise<number> {
  let n = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) n += chunk.byteLength;
  return n;
}

async function mibPerSecond(run: () => Promise<number>, times: number): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    const bytes = await run();
    if (bytes !== MB20) throw new Error(`moved ${bytes} bytes, expected ${MB20}`);
    rates.push(bytes / 2 ** 20 / ((performance.now() - t) / 1000));
  }
  return percentile(rates, 0.5);
}

async function latencies(url: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const r = await fetch(url);
    await r.arrayBuffer();
    out.push(performance.now() - t);
  }
  return out;
}

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
      const viaLat = await latencies(`${paths.tunnel}/small`, smallCount);
      const directLat = await latencies(`${paths.direct}/small`, smallCount);
      const [t50, t99, d50, d99] = [percentile(viaLat, 0.5), percentile(viaLat, 0.99), percentile(directLat, 0.5), percentile(directLat, 0.99)];

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
      runs.push({ rep, viaDown, directDown, viaUp, directUp, t50, t99, d50, d99, rssBaselineMiB: baseline / 1024, rssGrowthMiB: growth });
    } finally {
      await origin.stop();
      await broker.stop();
    }
  }
  ctx.details.tunnel = { smallRequests: smallCount, transfersPerRep: times, runs };
}
