// Relay load generator, run as its own process so its CPU never counts as the
// server's. `origins` origins register one pod each and answer every offer at
// once, trickling their candidates. Two modes:
// - "sessions": `concurrency` visitors at a time each open a fresh socket (as a
//   browser does per attempt), send an offer and trickle candidates, wait for
//   the answer and the origin's candidates, then close. Connection churn is
//   part of the cost, as in production.
// - "trickle": `concurrency` sessions are set up once and kept open; then every
//   candidate that arrives is answered with another, both ways, so only
//   message relaying is measured.
// Bounded by session count and by time.
//   bun scripts/bench/relay-load.ts '<RelayLoadOptions as JSON>'
import { cpuDelta, cpuTime, steadyWindow, type CpuTime } from "./proc.ts";
import { percentile } from "./stats.ts";
import { CANDIDATES_EACH_WAY, RELAYED_PER_SESSION, frames } from "./signal-payloads.ts";

export interface RelayLoadOptions {
  wsUrl: string;
  mode: "sessions" | "trickle";
  origins: number;
  concurrency: number;
  /** Unmeasured sessions first ("sessions" mode), so JITs and pools are warm. */
  warmupSessions: number;
  /** The measured phase of "sessions" mode stops at this many sessions... */
  maxSessions: number;
  /** ...or after this long, whichever comes first (the only bound in "trickle" mode). */
  seconds: number;
  /** Server process whose CPU time is read around the measured phase. */
  serverPid?: number;
  /** Where origins connect, if not `wsUrl` (a cluster: origins on one node, visitors on another). */
  originWsUrl?: string;
  /** Further server processes whose CPU counts too (the other nodes of a cluster). */
  otherServerPids?: number[];
  sessionTimeoutMs?: number;
}

export interface RelayLoadResult {
  mode: RelayLoadOptions["mode"];
  sessions: number;
  failures: number;
  firstFailure?: string;
  relayedMessages: number;
  elapsedMs: number;
  sessionsPerSec: number;
  messagesPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  serverCpuMs?: number;
  /** The kernel's share of serverCpuMs (socket syscalls, loopback TCP). */
  serverSystemCpuMs?: number;
  serverCpuMicrosPerMessage?: number;
}

/** State shared by every socket of the run. */
export interface Run {
  delivered: number;
  failures: number;
  firstFailure?: string;
  /** In "trickle" mode: answer each arriving candidate with another. */
  bouncing: boolean;
}

export function fail(run: Run, why: string): void {
  run.failures++;
  run.firstFailure ??= why;
}

function openSocket(url: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => (ws.close(), reject(new Error("connect timeout"))), timeoutMs);
    ws.onopen = () => (clearTimeout(timer), resolve(ws));
    ws.onerror = () => (clearTimeout(timer), reject(new Error("connect failed")));
  });
}

export async function startOrigin(url: string, podId: string, run: Run): Promise<WebSocket> {
  const ws = await openSocket(url, 5000);
  const registered = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${podId}: no "registered" within 5 s`)), 5000);
    ws.onmessage = (event) => {
      const m = JSON.parse(String(event.data));
      if (m.t === "registered") {
        clearTimeout(timer);
        resolve();
      } else if (m.t === "offer") {
        run.delivered++;
        ws.send(frames.answer(m.sessionId));
        for (const c of frames.originCandidates(m.sessionId)) ws.send(c);
      } else if (m.t === "candidate") {
        run.delivered++;
        if (run.bouncing) ws.send(frames.originCandidates(m.sessionId)[0]!);
      } else if (m.t === "challenge") {
        // Our broker's owner-proof challenge; the reference and the bare relay send none.
      } else {
        fail(run, `origin got ${String(event.data).slice(0, 200)}`);
      }
    };
  });
  ws.send(frames.register(podId));
  await registered;
  return ws;
}

interface Visit {
  /** offer -> answer, or undefined if the session failed. */
  latencyMs?: number;
  /** The still-open socket, when `keepOpen`. */
  ws?: WebSocket;
}

/** One visitor session: resolves once the answer and the origin's candidates are in. */
export async function visit(url: string, podId: string, run: Run, timeoutMs: number, keepOpen: boolean): Promise<Visit> {
  let ws: WebSocket;
  try {
    ws = await openSocket(url, timeoutMs);
  } catch (error) {
    fail(run, `visitor: ${(error as Error).message}`);
    return {};
  }
  const sessionId = crypto.randomUUID();
  return new Promise((resolve) => {
    const sentAt = performance.now();
    let latencyMs: number | undefined;
    let candidates = 0;
    let done = false;
    const finish = (failure?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (failure) fail(run, failure);
      if (failure || !keepOpen) {
        ws.onmessage = null;
        ws.onclose = null;
        ws.close();
        return resolve(failure ? {} : { latencyMs });
      }
      resolve({ latencyMs, ws });
    };
    const timer = setTimeout(() => finish(`session timed out after ${timeoutMs} ms`), timeoutMs);
    ws.onclose = () => finish("visitor socket closed by the server");
    ws.onmessage = (event) => {
      const m = JSON.parse(String(event.data));
      if (m.t === "answer" && m.sessionId === sessionId) {
        latencyMs = performance.now() - sentAt;
      } else if (m.t === "candidate" && m.sessionId === sessionId) {
        candidates++;
        if (run.bouncing && latencyMs !== undefined) ws.send(frames.visitorCandidates(podId, sessionId)[0]!);
      } else if (m.t === "challenge") {
        return; // as the shim does: not for visitors
      } else {
        return done ? fail(run, `visitor got ${String(event.data).slice(0, 200)}`) : finish(`visitor got ${String(event.data).slice(0, 200)}`);
      }
      run.delivered++;
      if (latencyMs !== undefined && candidates >= CANDIDATES_EACH_WAY) finish();
    };
    ws.send(frames.offer(podId, sessionId));
    for (const c of frames.visitorCandidates(podId, sessionId)) ws.send(c);
  });
}

/** `concurrency` visitor loops, each running sessions back to back until the budget is spent. */
async function sessionLoops(options: RelayLoadOptions, podIds: string[], run: Run, budget: { left: number; until: number }): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const loop = async () => {
    while (budget.left > 0 && performance.now() < budget.until) {
      budget.left--;
      const { latencyMs } = await visit(options.wsUrl, podIds[next++ % podIds.length]!, run, options.sessionTimeoutMs ?? 10_000, false);
      if (latencyMs !== undefined) latencies.push(latencyMs);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  return latencies;
}

interface Measured {
  sessions: number;
  latencies: number[];
  elapsedMs: number;
  cpu?: CpuTime;
}

async function measureSessions(options: RelayLoadOptions, podIds: string[], run: Run, cpu: () => CpuTime | undefined): Promise<Measured> {
  await sessionLoops(options, podIds, run, { left: options.warmupSessions, until: performance.now() + 30_000 });
  await Bun.sleep(50); // late candidates of the warm-up must not count below
  Object.assign(run, { delivered: 0, failures: 0, firstFailure: undefined });
  const cpuBefore = cpu();
  const start = performance.now();
  const latencies = await sessionLoops(options, podIds, run, { left: options.maxSessions, until: start + options.seconds * 1000 });
  const elapsedMs = performance.now() - start;
  // Candidates a visitor sent just before closing may still be on their way to the origin.
  const expected = latencies.length * RELAYED_PER_SESSION;
  for (let waited = 0; run.delivered < expected && waited < 1000; waited += 10) await Bun.sleep(10);
  return { sessions: latencies.length, latencies, elapsedMs, cpu: cpuDelta(cpuBefore, cpu()) };
}

async function measureTrickle(options: RelayLoadOptions, podIds: string[], run: Run, cpu: () => CpuTime | undefined): Promise<Measured> {
  run.bouncing = true;
  const timeout = options.sessionTimeoutMs ?? 10_000;
  const visits = await Promise.all(
    Array.from({ length: options.concurrency }, (_, i) => visit(options.wsUrl, podIds[i % podIds.length]!, run, timeout, true)),
  );
  try {
    await Bun.sleep(200); // let the bouncing settle into a steady state
    Object.assign(run, { delivered: 0 });
    const { elapsedMs, used } = await steadyWindow(options.seconds, cpu, () => (run.bouncing = false));
    const latencies = visits.flatMap((v) => (v.latencyMs === undefined ? [] : [v.latencyMs]));
    return { sessions: latencies.length, latencies, elapsedMs, cpu: used };
  } finally {
    for (const v of visits) v.ws?.close();
  }
}

export async function runRelayLoad(options: RelayLoadOptions): Promise<RelayLoadResult> {
  const run: Run = { delivered: 0, failures: 0, bouncing: false };
  const podIds = Array.from({ length: options.origins }, (_, i) => `benchpod-${String(i).padStart(3, "0")}`);
  const origins = await Promise.all(podIds.map((podId) => startOrigin(options.originWsUrl ?? options.wsUrl, podId, run)));
  const pids = options.serverPid ? [options.serverPid, ...(options.otherServerPids ?? [])] : [];
  const cpu = () => (pids.length ? pids.map(cpuTime).reduce((sum, t) => ({ userMicros: sum.userMicros + t.userMicros, systemMicros: sum.systemMicros + t.systemMicros })) : undefined);
  try {
    const measure = options.mode === "trickle" ? measureTrickle : measureSessions;
    const { sessions, latencies, elapsedMs, cpu: used } = await measure(options, podIds, run, cpu);
    const cpuMs = used && (used.userMicros + used.systemMicros) / 1000;
    return {
      mode: options.mode,
      sessions,
      failures: run.failures,
      firstFailure: run.firstFailure,
      relayedMessages: run.delivered,
      elapsedMs,
      sessionsPerSec: (sessions * 1000) / elapsedMs,
      messagesPerSec: (run.delivered * 1000) / elapsedMs,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP99Ms: percentile(latencies, 0.99),
      serverCpuMs: cpuMs,
      serverSystemCpuMs: used && used.systemMicros / 1000,
      serverCpuMicrosPerMessage: cpuMs === undefined ? undefined : (cpuMs * 1000) / run.delivered,
    };
  } finally {
    for (const ws of origins) ws.close();
  }
}

if (import.meta.main) {
  const result = await runRelayLoad(JSON.parse(process.argv[2]!) as RelayLoadOptions);
  console.log(JSON.stringify(result));
  process.exit(0);
}
