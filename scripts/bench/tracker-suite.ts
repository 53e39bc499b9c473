// The WebSocket tracker (WS /announce): server CPU per relayed offer or answer, and resident
// memory per idle connection, for our server, the reference (bittorrent-tracker's server with
// only its websocket tracker, under Node) and a bare Bun tracker, side by side in one run.
import { join } from "node:path";
import { targets } from "./figures.ts";
import { runJsonChild } from "./processes.ts";
import { HOST, ROOT, startServer, type ServerSpec } from "./servers.ts";
import { forEachRun, type SuiteContext } from "./suite.ts";
import type { TrackerLoadOptions, TrackerLoadResult } from "./tracker-load.ts";

const SWARMS = 8;
const PEERS = 8;
const LOAD = join(import.meta.dir, "tracker-load.ts");

/** The tracker's own servers: ours with its announce budget lifted (one address stands for every peer), the reference, the floor. */
function trackerSpecs(specs: ServerSpec[]): ServerSpec[] {
  const out: ServerSpec[] = [];
  for (const spec of specs) {
    if (spec.name === "ours") out.push({ ...spec, command: (port) => [...spec.command(port), "--tracker-announce-budget", "1000000"] });
    if (spec.name === "reference") {
      // The same runtime the reference signal server runs on (Node 22+ when there is one).
      const runtime = spec.command(0)[0]!;
      out.push({ ...spec, label: spec.label.replace(/^@gemmapod\/signal [^ ]+/, "bittorrent-tracker 11.2.3 --ws"), hasRegistry: false, needsFixedPort: false, command: (port) => [runtime, join(ROOT, "scripts/bench/reference-tracker.mjs"), String(port), HOST] });
    }
    if (spec.name === "bare") out.push({ ...spec, label: spec.label.replace("relay", "tracker"), command: (port) => [process.execPath, join(import.meta.dir, "bare-tracker.ts"), "--port", String(port), "--hostname", HOST] });
  }
  return out;
}

export async function trackerSuite(ctx: SuiteContext): Promise<void> {
  const f = ctx.figures;
  const connections = ctx.quick ? 200 : 4000;
  const ids = {
    rate: f.define({ id: "tracker.relay.messagesPerSec", suite: "tracker", label: `WS /announce: offers and answers relayed/s, ${SWARMS} swarms of ${PEERS}`, unit: "1/s", better: "higher", digits: 0 }),
    cpu: f.define({ id: "tracker.relay.cpuPerMessage", suite: "tracker", label: `WS /announce: server CPU per relayed offer or answer`, unit: "µs", better: "lower", digits: 2, target: { text: "≤ 0.5× reference", met: targets.ratioAtMost(0.5, "reference") } }),
    memory: f.define({ id: "tracker.idle.bytesPerConnection", suite: "tracker", label: `WS /announce: resident memory per idle peer (announced once), ${connections} connections`, unit: "B", better: "lower", digits: 0, target: { text: "≤ 1/3 reference", met: targets.ratioAtMost(1 / 3, "reference") } }),
    connected: f.define({ id: "tracker.connected.bytesPerConnection", suite: "tracker", label: `WS /announce: resident memory per connection that never announced, ${connections} connections`, unit: "B", better: "lower", digits: 0 }),
  };
  const load = (options: TrackerLoadOptions) => runJsonChild<TrackerLoadResult>([process.execPath, LOAD, JSON.stringify(options)], (options.seconds + 120) * 1000);
  const runs: unknown[] = [];
  await forEachRun(ctx, trackerSpecs(ctx.specs), async (spec, rep) => {
    const common = { swarms: SWARMS, peers: PEERS, connections, seconds: ctx.seconds };
    // Each measure on a fresh server: the relay's garbage must not count as idle memory.
    const relay = await withServer(spec, ctx, (url, pid) => load({ ...common, url, mode: "relay", serverPid: pid }));
    const idle = await withServer(spec, ctx, (url, pid) => load({ ...common, url, mode: "idle", serverPid: pid }));
    const connected = await withServer(spec, ctx, (url, pid) => load({ ...common, url, mode: "connected", serverPid: pid }));
    runs.push({ server: spec.name, rep, relay, idle, connected });
    if (relay.failures || idle.failures) ctx.notes.push(`tracker, ${spec.name}: ${relay.failures + idle.failures} failure replies`);
    f.add(ids.rate, spec.name, relay.messagesPerSec);
    f.add(ids.cpu, spec.name, relay.serverCpuMicrosPerMessage);
    f.add(ids.memory, spec.name, idle.bytesPerConnection);
    f.add(ids.connected, spec.name, connected.bytesPerConnection);
  });
  ctx.notes.push("tracker: ours validates every frame, binds each peer_id to its socket and budgets frames (lifted here: one address stands for every peer); the reference checks ids only; the bare tracker checks nothing");
  ctx.details.tracker = { swarms: SWARMS, peers: PEERS, connections, seconds: ctx.seconds, runs };
}

async function withServer<T>(spec: ServerSpec, ctx: SuiteContext, run: (url: string, pid: number) => Promise<T>): Promise<T> {
  const server = await startServer(spec, join(ctx.outDir, "logs"));
  try {
    return await run(`${server.url.replace(/^http/, "ws")}/announce`, server.pid);
  } finally {
    await server.stop();
  }
}
