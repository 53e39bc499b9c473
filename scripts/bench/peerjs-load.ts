// PeerJS load generator, run as its own process so its CPU never counts as the server's.
// - "forward": `pairs` pairs of ids negotiate back to back as the peerjs client
//   does: the caller sends an OFFER (a ~2.2 KB SDP) and 4 CANDIDATEs, the callee
//   an ANSWER and 4 CANDIDATEs, then the next round. Measures forwarded
//   messages/s and server CPU per forwarded message.
// - "connect": `connects` sockets, `concurrency` at a time, each opened with a
//   fresh id until its OPEN, then closed. Measures connect+OPEN per second and
//   server CPU per connect.
//   bun scripts/bench/peerjs-load.ts '<PeerjsLoadOptions as JSON>'
import { cpuDelta, cpuTime, steadyWindow, type CpuTime } from "./proc.ts";
import { CANDIDATES_EACH_WAY, peerFrames } from "./signal-payloads.ts";

export interface PeerjsLoadOptions {
  /** http://host:port of the server; the PeerJS path is /peerjs on every server benched. */
  url: string;
  mode: "forward" | "connect";
  pairs: number;
  connects: number;
  concurrency: number;
  seconds: number;
  serverPid?: number;
}

export interface PeerjsLoadResult {
  mode: PeerjsLoadOptions["mode"];
  /** Messages forwarded (forward) or sockets opened (connect). */
  count: number;
  elapsedMs: number;
  perSec: number;
  serverCpuMs?: number;
  serverCpuMicrosEach?: number;
}

// The same SDP and candidates as the other suites, in the peerjs client's frames.
const OFFER_SDP = JSON.stringify({ type: "offer", sdp: JSON.parse(peerFrames.offer("x")).sdp });
const ANSWER_SDP = JSON.stringify({ type: "answer", sdp: JSON.parse(peerFrames.answer("x")).sdp });
const candidates = (side: "caller" | "callee") => peerFrames.candidates("x", side).map((f) => JSON.stringify(JSON.parse(f).candidate));
const CALLER_CANDIDATES = candidates("caller");
const CALLEE_CANDIDATES = candidates("callee");
const CONNECTION = '"type":"data","connectionId":"dc_bench0001","label":"dc_bench0001","reliable":false,"serialization":"binary","browser":"chrome"';

const frames = {
  offer: (dst: string) => `{"type":"OFFER","payload":{"sdp":${OFFER_SDP},${CONNECTION}},"dst":"${dst}"}`,
  answer: (dst: string) => `{"type":"ANSWER","payload":{"sdp":${ANSWER_SDP},${CONNECTION}},"dst":"${dst}"}`,
  candidates: (dst: string, side: "caller" | "callee") =>
    (side === "caller" ? CALLER_CANDIDATES : CALLEE_CANDIDATES).map((c) => `{"type":"CANDIDATE","payload":{"candidate":${c},"type":"data","connectionId":"dc_bench0001"},"dst":"${dst}"}`),
};

const run = crypto.randomUUID().slice(0, 8);

/** A socket holding `id`, resolved at its OPEN; `onFrame` gets every later frame. */
function openId(url: string, id: string, onFrame: (m: { type: string }) => void = () => {}): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/peerjs/peerjs?key=peerjs&id=${id}&token=tok${id}&version=1.5.5`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id}: no OPEN within 20 s`)), 20_000);
    ws.onerror = () => reject(new Error(`${id}: connect failed`));
    ws.onmessage = (event) => {
      const m = JSON.parse(String(event.data));
      if (m.type !== "OPEN") return onFrame(m);
      clearTimeout(timer);
      resolve(ws);
    };
  });
}

interface Counter {
  delivered: number;
  running: boolean;
}

async function pair(url: string, index: number, counter: Counter): Promise<{ sockets: WebSocket[]; call: () => void }> {
  const callerId = `caller${index}x${run}`;
  const calleeId = `callee${index}x${run}`;
  let callerGot = 0;
  let caller!: WebSocket;
  let callee!: WebSocket;
  const call = () => {
    caller.send(frames.offer(calleeId));
    for (const c of frames.candidates(calleeId, "caller")) caller.send(c);
  };
  caller = await openId(url, callerId, () => {
    counter.delivered++;
    // The round ends when the answer and all the callee's candidates are in.
    if (++callerGot === 1 + CANDIDATES_EACH_WAY && counter.running) {
      callerGot = 0;
      call();
    }
  });
  callee = await openId(url, calleeId, (m) => {
    counter.delivered++;
    if (m.type !== "OFFER") return;
    callee.send(frames.answer(callerId));
    for (const c of frames.candidates(callerId, "callee")) callee.send(c);
  });
  return { sockets: [caller, callee], call };
}

async function measureForward(o: PeerjsLoadOptions, cpu: () => CpuTime | undefined) {
  const counter: Counter = { delivered: 0, running: true };
  const pairs = await Promise.all(Array.from({ length: o.pairs }, (_, i) => pair(o.url, i, counter)));
  try {
    for (const p of pairs) p.call();
    await Bun.sleep(500); // warm: JITs, buffers
    counter.delivered = 0;
    const { elapsedMs, used } = await steadyWindow(o.seconds, cpu, () => (counter.running = false));
    return { count: counter.delivered, elapsedMs, used };
  } finally {
    for (const ws of pairs.flatMap((p) => p.sockets)) ws.close();
  }
}

async function measureConnect(o: PeerjsLoadOptions, cpu: () => CpuTime | undefined) {
  let next = 0;
  const worker = async () => {
    while (next < o.connects) {
      const ws = await openId(o.url, `conn${next++}x${run}`);
      ws.close();
    }
  };
  const before = cpu();
  const start = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsedMs = performance.now() - start;
  await Bun.sleep(100); // the closes, whose CPU belongs to the connects
  return { count: o.connects, elapsedMs, used: cpuDelta(before, cpu()) };
}

export async function runPeerjsLoad(o: PeerjsLoadOptions): Promise<PeerjsLoadResult> {
  const cpu = () => (o.serverPid ? cpuTime(o.serverPid) : undefined);
  const { count, elapsedMs, used } = await (o.mode === "forward" ? measureForward : measureConnect)(o, cpu);
  const cpuMs = used && (used.userMicros + used.systemMicros) / 1000;
  return {
    mode: o.mode,
    count,
    elapsedMs,
    perSec: (count * 1000) / elapsedMs,
    serverCpuMs: cpuMs,
    serverCpuMicrosEach: cpuMs === undefined || count === 0 ? undefined : (cpuMs * 1000) / count,
  };
}

if (import.meta.main) {
  const result = await runPeerjsLoad(JSON.parse(process.argv[2]!) as PeerjsLoadOptions);
  console.log(JSON.stringify(result));
  process.exit(0);
}
