// The tunnel over a WAN: the owner's `tunnel` command reaches the broker through an emulated
// 1 Gbit/s link (wan-link.ts: a userspace delay and pacing proxy; this kernel has no netem),
// against the same transfers made directly to the local server over an identical link. In this
// suite's rows "ours" is through the tunnel and "bare" is direct. Every transfer is 40 MiB of
// random bytes checked by SHA-256; each figure is the median of its reps, each rep's value the
// median of its transfers. Broker, local server, client and both links are separate processes.
import { join } from "node:path";
import { targets } from "./figures.ts";
import { startServer, type ServerSpec } from "./servers.ts";
import { percentile } from "./stats.ts";
import type { SuiteContext } from "./suite.ts";
import { startLocal, startTunnelClient, startWanLink } from "./tunnel-measure.ts";

const RTTS = [0, 40, 100];
const MBIT = 1000;
const BYTES = 40 * 1024 * 1024;

/** Downloads `url`, hashing as it reads; the MiB/s, or an error if a byte differs. */
async function download(url: string, sha: string): Promise<number> {
  const t = performance.now();
  const response = await fetch(url);
  const hasher = new Bun.CryptoHasher("sha256");
  let n = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    hasher.update(chunk);
    n += chunk.byteLength;
  }
  const ms = performance.now() - t;
  if (n !== BYTES || hasher.digest("hex") !== sha) throw new Error(`download from ${url} was not byte-exact (${n} bytes)`);
  return BYTES / 2 ** 20 / (ms / 1000);
}

async function upload(url: string, body: Uint8Array, sha: string): Promise<number> {
  const t = performance.now();
  const answer = await (await fetch(url, { method: "POST", body })).text();
  const ms = performance.now() - t;
  if (answer !== sha) throw new Error(`upload to ${url} was not byte-exact`);
  return BYTES / 2 ** 20 / (ms / 1000);
}

export async function wanSuite(ctx: SuiteContext): Promise<void> {
  const ours = ctx.specs.find((s) => s.name === "ours");
  if (!ours) return void ctx.notes.push("wan: needs ours; skipped");
  const spec: ServerSpec = ours;
  const f = ctx.figures;
  const ids = RTTS.map((rtt) => {
    const target = rtt > 0 ? { text: "≥ 0.8× direct", met: targets.ratioAtLeast(0.8, "bare") } : undefined;
    const figure = (dir: "down" | "up", what: string) =>
      f.define({ id: `wan.${dir}.${rtt}`, suite: "wan", label: `40 MiB ${what}, RTT ${rtt} ms (bare = direct)`, unit: "MiB/s", better: "higher", digits: 1, target });
    const cold = (dir: "down" | "up", what: string) =>
      f.define({ id: `wan.cold.${dir}.${rtt}`, suite: "wan", label: `first 40 MiB ${what} of a new connection, RTT ${rtt} ms`, unit: "MiB/s", better: "higher", digits: 1 });
    return { rtt, down: figure("down", "download"), up: figure("up", "upload"), coldDown: cold("down", "download"), coldUp: cold("up", "upload") };
  });
  const times = ctx.quick ? 1 : 3;
  const body = new Uint8Array(BYTES);
  for (let at = 0; at < BYTES; at += 65536) crypto.getRandomValues(body.subarray(at, at + 65536));
  const bodySha = new Bun.CryptoHasher("sha256").update(body).digest("hex");
  const runs: unknown[] = [];

  for (let rep = 1; rep <= ctx.reps; rep++) {
    process.stderr.write(`  rep ${rep}/${ctx.reps}: wan\n`);
    const broker = await startServer(spec, join(ctx.outDir, "logs"));
    const local = await startLocal();
    try {
      const sha = await (await fetch(`${local.url}/random.sha256`)).text();
      for (const { rtt, down, up, coldDown, coldUp } of ids) {
        const toBroker = await startWanLink(new URL(broker.url).host, rtt, MBIT);
        const toLocal = await startWanLink(new URL(local.url).host, rtt, MBIT);
        const client = await startTunnelClient(broker.url, local.url, join(ctx.outDir, `wan-${rep}.key`), toBroker.url);
        try {
          const paths = { ours: client.url, bare: toLocal.url } as const;
          const rates: Record<string, number[]> = {};
          // One of each first, on new connections: the windows start small and grow (reported
          // apart); the timed ones after them run on windows the tunnel has learned.
          for (const [name, base] of Object.entries(paths) as ["ours" | "bare", string][]) {
            f.add(coldDown, name, await download(`${base}/random`, sha));
            f.add(coldUp, name, await upload(`${base}/hash`, body, bodySha));
          }
          for (let i = 0; i < times; i++) {
            // Interleaved, so drift in the machine's load falls on both paths alike.
            for (const [name, base] of Object.entries(paths)) {
              (rates[`${name}.down`] ??= []).push(await download(`${base}/random`, sha));
              (rates[`${name}.up`] ??= []).push(await upload(`${base}/hash`, body, bodySha));
            }
          }
          const med = (key: string) => percentile(rates[key]!, 0.5);
          f.add(down, "ours", med("ours.down"));
          f.add(down, "bare", med("bare.down"));
          f.add(up, "ours", med("ours.up"));
          f.add(up, "bare", med("bare.up"));
          runs.push({ rep, rtt, rates });
          process.stderr.write(`    rtt ${rtt}: down ${med("ours.down").toFixed(1)} / ${med("bare.down").toFixed(1)}, up ${med("ours.up").toFixed(1)} / ${med("bare.up").toFixed(1)} MiB/s (tunnel / direct)\n`);
        } finally {
          await client.stop();
          await toBroker.stop();
          await toLocal.stop();
        }
      }
    } finally {
      await local.stop();
      await broker.stop();
    }
  }
  ctx.details.wan = { mbit: MBIT, bytes: BYTES, transfersPerRep: times, runs };
}
