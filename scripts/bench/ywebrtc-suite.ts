// y-webrtc (WS /y-webrtc): server CPU per delivered message for rooms of peers
// publishing y-webrtc signals, for our server (default y-webrtc limits), the
// reference y-webrtc server (node_modules/y-webrtc/bin/server.js, on Node) and a
// bare Bun pub/sub floor (ywebrtc-bare.ts), side by side in one run.
import { join } from "node:path";
import { targets } from "./figures.ts";
import { runJsonChild, spawnTracked, stopProcess } from "./processes.ts";
import { userMicrosPerMessage } from "./relay-suite.ts";
import { freePort, HOST, ROOT, type ServerSpec } from "./servers.ts";
import { forEachRun, type SuiteContext } from "./suite.ts";
import type { YLoadOptions, YLoadResult } from "./ywebrtc-load.ts";

const ROOMS = 8;
const PEERS = 8;
/** Publishes per second per socket: within our default budget for a socket with 7 others in its room (20 + 2 × 7). */
const RATE = 30;
const Y_LOAD = join(import.meta.dir, "ywebrtc-load.ts");
const REFERENCE = join(ROOT, "node_modules/y-webrtc/bin/server.js");

const cpuTarget = { text: "≤ 0.5× reference, ≤ 1.2× bare", met: targets.all(targets.ratioAtMost(0.5, "reference"), targets.ratioAtMost(1.2, "bare")) };

/** The y-webrtc endpoint of each server, on a port picked here (the reference takes it from $PORT). */
function commandFor(spec: ServerSpec, port: number): { command: string[]; env?: Record<string, string>; label: string } {
  if (spec.name === "ours") return { command: spec.command(port), label: `${spec.label}, default y-webrtc limits` };
  // The reference spec runs @gemmapod/signal; its runtime (Node if there is one) runs y-webrtc's server too.
  if (spec.name === "reference") return { command: [spec.command(port)[0]!, REFERENCE], env: { PORT: String(port), HOST }, label: "y-webrtc 10.3.0 bin/server.js" };
  return { command: [process.execPath, join(import.meta.dir, "ywebrtc-bare.ts"), "--port", String(port), "--hostname", HOST], label: "bare Bun pub/sub floor" };
}

async function startYServer(spec: ServerSpec) {
  const port = freePort();
  const { command, env } = commandFor(spec, port);
  const proc = spawnTracked(command, { stdout: "ignore", stderr: "ignore", env: { ...process.env, ...env } });
  // Every one answers plain HTTP once it listens (the reference "okay" on any path).
  for (const deadline = Date.now() + 15_000; ; await Bun.sleep(20)) {
    if (await fetch(`http://${HOST}:${port}/health`).then(() => true, () => false)) break;
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`${spec.name} (y-webrtc) did not start`);
  }
  return { url: `ws://${HOST}:${port}/y-webrtc`, pid: proc.pid, stop: () => stopProcess(proc) };
}

export async function ywebrtcSuite(ctx: SuiteContext): Promise<void> {
  const f = ctx.figures;
  const d = (id: string, label: string, unit: string, better: "higher" | "lower", digits: number, target?: typeof cpuTarget) =>
    f.define({ id: `ywebrtc.${id}`, suite: "ywebrtc", label, unit, better, digits, target });
  const ids = {
    rate: d("deliveredPerSec", `/y-webrtc: delivered messages/s, ${ROOMS} rooms × ${PEERS} peers at ${RATE} publishes/s each`, "1/s", "higher", 0),
    cpu: d("cpuPerMessage", `/y-webrtc: server CPU per delivered message, ${ROOMS} rooms × ${PEERS} peers`, "µs", "lower", 2, cpuTarget),
    userCpu: d("userCpuPerMessage", `/y-webrtc: server user-space CPU per delivered message, ${ROOMS} rooms × ${PEERS} peers`, "µs", "lower", 2),
  };
  // /proc counts CPU in 10 ms ticks and a delivery costs a few µs: a longer window than other suites'.
  const seconds = ctx.quick ? ctx.seconds : ctx.seconds * 4;
  const runs: unknown[] = [];
  await forEachRun(ctx, ctx.specs, async (spec, rep) => {
    const server = await startYServer(spec);
    try {
      const options: YLoadOptions = { url: server.url, rooms: ROOMS, peers: PEERS, rate: RATE, warmupSeconds: ctx.quick ? 0.5 : 3, seconds, serverPid: server.pid };
      const r = await runJsonChild<YLoadResult>([process.execPath, Y_LOAD, JSON.stringify(options)], (seconds + 60) * 1000);
      runs.push({ server: spec.name, rep, ...r });
      if (r.missing !== 0 || r.errors !== 0) ctx.notes.push(`ywebrtc, ${spec.name} rep ${rep}: ${r.missing} deliveries missing, ${r.errors} errors`);
      f.add(ids.rate, spec.name, r.deliveredPerSec);
      f.add(ids.cpu, spec.name, r.serverCpuMicrosPerMessage);
      f.add(ids.userCpu, spec.name, userMicrosPerMessage({ ...r, relayedMessages: r.delivered }));
    } finally {
      await server.stop();
    }
  });
  ctx.notes.push(`ywebrtc: "reference" is y-webrtc's own bin/server.js (not @gemmapod/signal) on the reference runtime; "bare" is a Bun pub/sub floor that parses each frame and splices in clients, with no checks; ours checks every frame and counts clients across nodes (one node here); window ${seconds} s after a warm-up`);
  ctx.details.ywebrtc = { rooms: ROOMS, peers: PEERS, rate: RATE, seconds, runs };
}
