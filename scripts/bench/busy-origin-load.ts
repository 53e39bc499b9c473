// Busy-origin load generator, run as its own process: one origin registers one pod
// and answers every offer at once, trickling its candidates; visitors arrive at a
// fixed rate (open loop, as a page's visitors do, not waiting for each other), each
// on a fresh socket with an offer and trickled candidates, and close once the answer
// and the origin's candidates are in. Reports the sessions completed per second, the
// failed ones, and whether the origin was cut off.
//   bun scripts/bench/busy-origin-load.ts '<BusyOriginOptions as JSON>'
import { startOrigin, visit, type Run } from "./relay-load.ts";
import { percentile } from "./stats.ts";

export interface BusyOriginOptions {
  wsUrl: string;
  /** Visitors arriving per second... */
  rate: number;
  /** ...for this long (measured), after `warmupSeconds` at the same rate (not measured). */
  seconds: number;
  warmupSeconds: number;
  /** Past this many sessions in flight, arrivals wait: a stalled server must not pile up sockets without end. */
  maxInFlight: number;
  sessionTimeoutMs?: number;
}

export interface BusyOriginResult {
  offered: number;
  sessions: number;
  failures: number;
  firstFailure?: string;
  /** Completed sessions per second: over the offered window, or until the last one ended if that was later. */
  sessionsPerSec: number;
  elapsedMs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Close code and reason if the server cut the origin off. */
  originClosed?: string;
}

const POD_ID = "busy-origin-pod";

/** Starts `rate × seconds` visits on schedule; resolves with their offer→answer latencies once all have ended. */
async function arrivals(options: BusyOriginOptions, seconds: number, run: Run): Promise<number[]> {
  const latencies: number[] = [];
  const visits = new Set<Promise<void>>();
  const total = Math.round(options.rate * seconds);
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / options.rate - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    while (visits.size >= options.maxInFlight) await Promise.race(visits);
    const v: Promise<void> = visit(options.wsUrl, POD_ID, run, options.sessionTimeoutMs ?? 10_000, false).then(({ latencyMs }) => {
      visits.delete(v);
      if (latencyMs !== undefined) latencies.push(latencyMs);
    });
    visits.add(v);
  }
  await Promise.all(visits);
  return latencies;
}

export async function runBusyOrigin(options: BusyOriginOptions): Promise<BusyOriginResult> {
  const run: Run = { delivered: 0, failures: 0, bouncing: false };
  const origin = await startOrigin(options.wsUrl, POD_ID, run);
  let originClosed: string | undefined;
  origin.addEventListener("close", (e) => (originClosed = `${e.code} ${e.reason}`));
  try {
    await arrivals(options, options.warmupSeconds, run);
    Object.assign(run, { failures: 0, firstFailure: undefined });
    const start = performance.now();
    const latencies = await arrivals(options, options.seconds, run);
    const elapsedMs = performance.now() - start;
    return {
      offered: Math.round(options.rate * options.seconds),
      sessions: latencies.length,
      failures: run.failures,
      firstFailure: run.firstFailure,
      sessionsPerSec: latencies.length / Math.max(options.seconds, elapsedMs / 1000),
      elapsedMs,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP99Ms: percentile(latencies, 0.99),
      originClosed,
    };
  } finally {
    origin.close();
  }
}

if (import.meta.main) {
  const result = await runBusyOrigin(JSON.parse(process.argv[2]!) as BusyOriginOptions);
  console.log(JSON.stringify(result));
  process.exit(0);
}
