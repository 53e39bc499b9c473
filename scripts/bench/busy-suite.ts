// Busy origin, default limits: one origin serving visitors who arrive at a steady
// rate, each on a fresh socket, against servers started with their default limits
// (ours: only the per-address connect rate lifted, as all load comes from loopback).
// The reference and the bare relay have no limits and stand alongside.
import { join } from "node:path";
import type { BusyOriginOptions, BusyOriginResult } from "./busy-origin-load.ts";
import { targets } from "./figures.ts";
import { runJsonChild } from "./processes.ts";
import { startServer, withDefaultLimits } from "./servers.ts";
import { forEachRun, type SuiteContext } from "./suite.ts";

const LOAD = join(import.meta.dir, "busy-origin-load.ts");
/** Offered visitors per second: above the 200/s a busy origin must sustain. */
const RATE = 250;
const SECONDS = 10;

export async function busySuite(ctx: SuiteContext): Promise<void> {
  const f = ctx.figures;
  const seconds = ctx.quick ? 2 : SECONDS;
  const label = (what: string) => `busy origin, default limits: ${what} (${RATE} visitors/s for ${seconds} s)`;
  const sessionsPerSec = f.define({
    id: "busy.sessionsPerSec",
    suite: "busy",
    label: label("sessions/s"),
    unit: "1/s",
    better: "higher",
    digits: 0,
    target: { text: "≥ 200", met: (v) => (v.ours === undefined ? undefined : v.ours >= 200) },
  });
  const failures = f.define({ id: "busy.failures", suite: "busy", label: label("failed sessions"), unit: "", better: "lower", digits: 0, noRatio: true, target: { text: "0", met: targets.oursEquals(0) } });
  const p99 = f.define({ id: "busy.latencyP99", suite: "busy", label: label("offer→answer p99"), unit: "ms", better: "lower", digits: 2 });
  const runs: unknown[] = [];
  const options = (wsUrl: string): BusyOriginOptions => ({ wsUrl, rate: RATE, seconds, warmupSeconds: ctx.quick ? 0.2 : 1, maxInFlight: 200 });

  await forEachRun(ctx, ctx.specs.map(withDefaultLimits), async (spec, rep) => {
    const server = await startServer(spec, join(ctx.outDir, "logs"));
    try {
      const r = await runJsonChild<BusyOriginResult>([process.execPath, LOAD, JSON.stringify(options(server.wsUrl))], (seconds + 60) * 1000);
      runs.push({ server: spec.name, rep, ...r });
      if (r.failures > 0 || r.originClosed) ctx.notes.push(`busy origin, ${spec.name}: ${r.failures} failed sessions, origin closed: ${r.originClosed ?? "no"}, first: ${r.firstFailure}`);
      f.add(sessionsPerSec, spec.name, r.sessionsPerSec);
      f.add(failures, spec.name, r.failures);
      f.add(p99, spec.name, r.latencyP99Ms);
    } finally {
      await server.stop();
    }
  });
  ctx.details.busy = { rate: RATE, seconds, runs };
}
