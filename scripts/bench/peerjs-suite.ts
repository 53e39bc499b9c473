// PeerJS: server CPU per forwarded message for 8 pairs negotiating back to back,
// and connect+OPEN per second, for our server, the `peer` 1.0 reference server
// (under Node) and a bare Bun floor (bare-peerjs.ts). Here the "reference"
// column is `peer`, not @gemmapod/signal.
import { join } from "node:path";
import { targets } from "./figures.ts";
import type { PeerjsLoadOptions, PeerjsLoadResult } from "./peerjs-load.ts";
import { runJsonChild, spawnTracked, stopProcess } from "./processes.ts";
import { freePort, HOST, ROOT, type ServerName, type ServerSpec } from "./servers.ts";
import { forEachRun, type SuiteContext } from "./suite.ts";

const PAIRS = 8;
const CONNECTS = 2000;
const CONCURRENCY = 50;
const LOAD = join(import.meta.dir, "peerjs-load.ts");
const PEER_CLI = join(ROOT, "node_modules/peer/dist/bin/peerjs.js");

/** The three servers as PeerJS servers at /peerjs, each on a port picked here. */
function peerjsSpecs(ctx: SuiteContext): ServerSpec[] {
  const wanted = new Set<ServerName>(ctx.specs.map((s) => s.name));
  // The runtime the other reference runs on (a Node 22+), else the node on PATH.
  const node = ctx.specs.find((s) => s.name === "reference")?.command(0)[0] ?? Bun.which("node") ?? undefined;
  const out: ServerSpec[] = [];
  const ours = ctx.specs.find((s) => s.name === "ours");
  // Loopback load is one address: the per-socket budget is lifted as the others' limits are.
  if (ours) out.push({ ...ours, command: (port) => [...ours.command(port), "--peerjs-message-rate", "1000000"] });
  if (wanted.has("reference")) {
    const runtime = node ?? process.execPath;
    const version = Bun.spawnSync([runtime, "--version"]).stdout.toString().trim();
    const label = `peer 1.0.2 (${/^v\d/.test(version) ? `node ${version}` : `bun ${Bun.version}: no node found`})`;
    out.push({ name: "reference", label, hasRegistry: false, needsFixedPort: true, command: (port) => [runtime, PEER_CLI, "--port", String(port), "--host", HOST, "--path", "/peerjs", "--concurrent_limit", "10000000"] });
  }
  if (wanted.has("bare")) {
    out.push({ name: "bare", label: `bare Bun PeerJS relay (bun ${Bun.version})`, hasRegistry: false, needsFixedPort: true, command: (port) => [process.execPath, join(import.meta.dir, "bare-peerjs.ts"), "--port", String(port), "--hostname", HOST] });
  }
  return out;
}

/** Starts `spec` on a free port; ready once it hands out a PeerJS id. */
async function startPeerjsServer(spec: ServerSpec, logDir: string): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = freePort();
  const url = `http://${HOST}:${port}`;
  const log = Bun.file(join(logDir, `peerjs-${spec.name}.log`));
  const proc = spawnTracked(spec.command(port), { stdout: log, stderr: log, env: { ...process.env, ...spec.env } });
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await Bun.sleep(20)) {
    const ok = await fetch(`${url}/peerjs/peerjs/id`).then((r) => r.ok, () => false);
    if (ok) return { url, pid: proc.pid, stop: () => stopProcess(proc) };
    if (proc.exitCode !== null) break;
  }
  await stopProcess(proc, 0);
  throw new Error(`${spec.label} did not start (log ${log.name})`);
}

export async function peerjsSuite(ctx: SuiteContext): Promise<void> {
  const f = ctx.figures;
  const d = (id: string, label: string, unit: string, better: "higher" | "lower", digits: number, target?: { text: string; met: ReturnType<typeof targets.ratioAtMost> }) =>
    f.define({ id: `peerjs.${id}`, suite: "peerjs", label, unit, better, digits, target });
  const ids = {
    rate: d("forward.messagesPerSec", `PeerJS: forwarded messages/s, ${PAIRS} pairs`, "1/s", "higher", 0),
    cpu: d("forward.cpuPerMessage", `PeerJS: server CPU per forwarded message, ${PAIRS} pairs`, "µs", "lower", 2, { text: "≤ 0.5× peer", met: targets.ratioAtMost(0.5, "reference") }),
    connects: d("connect.perSec", `PeerJS: connect+OPEN per second, ${CONCURRENCY} at a time`, "1/s", "higher", 0),
    connectCpu: d("connect.cpuPerConnect", "PeerJS: server CPU per connect+OPEN+close", "µs", "lower", 1),
  };
  const logDir = join(ctx.outDir, "logs");
  await Bun.write(join(logDir, ".keep"), "");
  const servers = peerjsSpecs(ctx);
  const runs: unknown[] = [];
  const load = (o: PeerjsLoadOptions) => runJsonChild<PeerjsLoadResult>([process.execPath, LOAD, JSON.stringify(o)], (o.seconds + 90) * 1000);
  await forEachRun(ctx, servers, async (spec, rep) => {
    const server = await startPeerjsServer(spec, logDir);
    try {
      const common = { url: server.url, pairs: PAIRS, connects: ctx.quick ? 300 : CONNECTS, concurrency: CONCURRENCY, seconds: ctx.seconds, serverPid: server.pid };
      const forward = await load({ ...common, mode: "forward" });
      const connect = await load({ ...common, mode: "connect" });
      runs.push({ server: spec.name, rep, forward, connect });
      f.add(ids.rate, spec.name, forward.perSec);
      f.add(ids.cpu, spec.name, forward.serverCpuMicrosEach);
      f.add(ids.connects, spec.name, connect.perSec);
      f.add(ids.connectCpu, spec.name, connect.serverCpuMicrosEach);
    } finally {
      await server.stop();
    }
  });
  ctx.notes.push(`peerjs: the reference column is ${servers.find((s) => s.name === "reference")?.label ?? "peer (not run)"}; the bare column is scripts/bench/bare-peerjs.ts. Ours takes each id as a claim on the hub and checks every frame`);
  ctx.details.peerjs = { pairs: PAIRS, connects: CONNECTS, concurrency: CONCURRENCY, seconds: ctx.seconds, runs };
}
