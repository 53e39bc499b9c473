// Connections: resident memory per idle registered origin socket, ramped in
// steps up to `ctx.sockets`, and the rate at which origins connect and register.
// Worker processes hold the client ends, each from its own 127.0.0.x address.
import type { Subprocess } from "bun";
import { join } from "node:path";
import type { WorkerOptions } from "./connections-worker.ts";
import { targets } from "./figures.ts";
import { cpuTime, openFileLimit, rssKiB } from "./proc.ts";
import { spawnTracked, stopProcess } from "./processes.ts";
import { HOST, startServer } from "./servers.ts";
import { forEachRun, type SuiteContext } from "./suite.ts";

const WORKER = join(import.meta.dir, "connections-worker.ts");
const SOCKETS_PER_WORKER = 5000;
const IN_FLIGHT_PER_WORKER = 32;
const SETTLE_MS = 1000;

interface StepReply {
  holding: number;
  failures: number;
  firstFailure?: string;
  ms: number;
}

/** A worker process, driven one line at a time. */
class Worker {
  private readonly lines: AsyncIterator<string>;

  constructor(private readonly proc: Subprocess<"pipe", "pipe", "inherit">) {
    this.lines = readLines(proc.stdout);
  }

  static start(options: WorkerOptions): Worker {
    return new Worker(spawnTracked([process.execPath, WORKER, JSON.stringify(options)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" }) as Subprocess<"pipe", "pipe", "inherit">);
  }

  async rampTo(target: number, timeoutMs: number): Promise<StepReply> {
    this.proc.stdin.write(`${JSON.stringify({ target })}\n`);
    this.proc.stdin.flush();
    const timeout = Bun.sleep(timeoutMs).then(() => ({ done: true as const, value: undefined }));
    const next = await Promise.race([this.lines.next(), timeout]);
    if (next.done) throw new Error(`connections worker gave no answer for target ${target} within ${timeoutMs} ms`);
    return JSON.parse(next.value) as StepReply;
  }

  async stop(): Promise<void> {
    this.proc.stdin.end();
    await stopProcess(this.proc, 5000);
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) !== -1) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
  }
}

/** Ramp steps: round numbers up to the top. */
function steps(top: number): number[] {
  return [...new Set([1000, 5000, 10_000, 15_000, top].filter((n) => n <= top))];
}

/** Splits `total` over `parts` as evenly as whole numbers allow. */
function share(total: number, parts: number, i: number): number {
  return Math.floor(total / parts) + (i < total % parts ? 1 : 0);
}

export async function connectionsSuite(ctx: SuiteContext): Promise<void> {
  // The server needs one descriptor per socket plus its own handful.
  const fdCeiling = openFileLimit("self") - 200;
  const top = Math.min(ctx.sockets, fdCeiling);
  if (top < ctx.sockets) {
    ctx.notes.push(`connections: ramp stops at ${top.toLocaleString("en-US")} sockets, not ${ctx.sockets.toLocaleString("en-US")}: the open-files limit here is ${openFileLimit("self")} per process and cannot be raised`);
  }
  const f = ctx.figures;
  const rssPerK = f.define({
    id: "connections.rssPer1000",
    suite: "connections",
    label: `RSS per 1,000 idle registered origins (at ${top.toLocaleString("en-US")})`,
    unit: "KiB",
    better: "lower",
    digits: 0,
    target: { text: "≤ 2,500 KiB (2.5 KiB per socket)", met: targets.oursAtMost(2500) },
  });
  const marginal = f.define({
    id: "connections.marginalRssPer1000",
    suite: "connections",
    label: `marginal RSS per 1,000 more origins (1,000 → ${top.toLocaleString("en-US")})`,
    unit: "KiB",
    better: "lower",
    digits: 0,
  });
  const rssTotal = f.define({ id: "connections.rssTop", suite: "connections", label: `RSS with ${top.toLocaleString("en-US")} idle origins`, unit: "MiB", better: "lower", digits: 1 });
  const rate = f.define({ id: "connections.connectRate", suite: "connections", label: "connect + register rate", unit: "1/s", better: "higher", digits: 0, target: { text: "≥ 0.9× bare", met: targets.ratioAtLeast(0.9, "bare") } });
  // The rate is capped by the load generator sharing the CPU; the server's own CPU per connection is the steadier figure.
  const cpu = f.define({ id: "connections.cpuPerConnect", suite: "connections", label: "server CPU per connect + register", unit: "µs", better: "lower", digits: 1 });
  const userCpu = f.define({ id: "connections.userCpuPerConnect", suite: "connections", label: "server user-space CPU per connect + register", unit: "µs", better: "lower", digits: 1 });
  const runs: unknown[] = [];

  const workers = Math.max(2, Math.ceil(top / SOCKETS_PER_WORKER));
  // Closed client ends linger in TIME_WAIT for a minute and keep their ports bound, so
  // every run takes fresh source addresses: 127.<random per invocation>.<run>.<worker>.
  const net = 1 + Math.floor(Math.random() * 254);
  let runIndex = 0;
  await forEachRun(ctx, ctx.specs, async (spec, rep) => {
    const sourceNet = `127.${net}.${++runIndex % 256}`;
    const server = await startServer(spec, join(ctx.outDir, "logs"));
    const port = Number(new URL(server.url).port);
    const pool = Array.from({ length: workers }, (_, w) =>
      Worker.start({ host: HOST, port, localAddress: `${sourceNet}.${2 + w}`, worker: w, inFlight: IN_FLIGHT_PER_WORKER, timeoutMs: 10_000 }),
    );
    try {
      await Bun.sleep(SETTLE_MS);
      const baseline = rssKiB(server.pid);
      const points: { sockets: number; rssKiB: number; ms: number; failures: number }[] = [];
      let rampMs = 0;
      const used = { userMicros: 0, systemMicros: 0 };
      for (const target of steps(top)) {
        const cpuBefore = cpuTime(server.pid);
        const started = performance.now();
        const replies = await Promise.all(pool.map((w, i) => w.rampTo(share(target, workers, i), 120_000)));
        const ms = performance.now() - started;
        const cpuAfter = cpuTime(server.pid);
        used.userMicros += cpuAfter.userMicros - cpuBefore.userMicros;
        used.systemMicros += cpuAfter.systemMicros - cpuBefore.systemMicros;
        const holding = replies.reduce((n, r) => n + r.holding, 0);
        const failures = replies.reduce((n, r) => n + r.failures, 0);
        if (failures > 0) ctx.notes.push(`connections, ${spec.name}: ${failures} origins failed to register on the way to ${target}; first: ${replies.find((r) => r.firstFailure)?.firstFailure}`);
        rampMs += ms;
        await Bun.sleep(SETTLE_MS);
        points.push({ sockets: holding, rssKiB: rssKiB(server.pid), ms, failures });
        if (holding < target) break;
      }
      const end = points.at(-1)!;
      runs.push({ server: spec.name, rep, baselineKiB: baseline, points, cpu: used });
      if (end.sockets >= top) {
        f.add(rssPerK, spec.name, ((end.rssKiB - baseline) * 1000) / end.sockets);
        f.add(rssTotal, spec.name, end.rssKiB / 1024);
        const first = points[0]!;
        if (end.sockets > first.sockets) f.add(marginal, spec.name, ((end.rssKiB - first.rssKiB) * 1000) / (end.sockets - first.sockets));
      }
      f.add(rate, spec.name, (end.sockets * 1000) / rampMs);
      f.add(cpu, spec.name, (used.userMicros + used.systemMicros) / end.sockets);
      f.add(userCpu, spec.name, used.userMicros / end.sockets);
    } finally {
      await Promise.all(pool.map((w) => w.stop()));
      await server.stop();
    }
  });
  ctx.details.connections = { top, workers, socketsPerWorkerMax: Math.ceil(top / workers), runs };
}
