// y-webrtc load generator, run as its own process so its CPU never counts as the
// server's. `rooms` rooms of `peers` sockets each subscribe; then every socket
// publishes y-webrtc signals (a trickled ICE candidate, as y-webrtc sends most)
// at `rate` per second for `seconds`. Each publish is delivered to every
// subscriber of its room, the sender included. Measures server CPU per
// delivered message (from /proc), from the first publish to the last delivery.
//   bun scripts/bench/ywebrtc-load.ts '<YLoadOptions as JSON>'
import { cpuDelta, cpuTime } from "./proc.ts";

export interface YLoadOptions {
  /** ws://host:port/path of the y-webrtc endpoint. */
  url: string;
  rooms: number;
  peers: number;
  /** Publishes per second per socket. */
  rate: number;
  /** Load before the measured window, so both servers' JIT has compiled what the load runs. */
  warmupSeconds: number;
  seconds: number;
  serverPid?: number;
}

export interface YLoadResult {
  published: number;
  delivered: number;
  /** Deliveries missing at the end: published × peers − delivered (0 when nothing was lost). */
  missing: number;
  errors: number;
  elapsedMs: number;
  deliveredPerSec: number;
  serverCpuMs?: number;
  serverSystemCpuMs?: number;
  serverCpuMicrosPerMessage?: number;
}

function signal(room: string, from: string, i: number): string {
  const candidate = { candidate: `candidate:${i % 7} 1 udp 2122260223 192.168.1.${i % 250} ${50000 + (i % 1000)} typ host generation 0 ufrag Xk3q network-id 1`, sdpMLineIndex: 0, sdpMid: "0" };
  return JSON.stringify({ type: "publish", topic: room, data: { type: "signal", from, to: "0f8e2c1a-5b7d-4e9f-a3c6-2d4b8e1f7a90", token: 0.6180339887, signal: { type: "candidate", candidate } } });
}

async function openSocket(url: string, room: string, onMessage: (text: string) => void): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  ws.onmessage = (e) => onMessage(String(e.data));
  ws.send(JSON.stringify({ type: "subscribe", topics: [room] }));
  return ws;
}

export async function runYLoad(o: YLoadOptions): Promise<YLoadResult> {
  let delivered = 0;
  let errors = 0;
  let pongs = 0;
  const onMessage = (text: string) => {
    // Counting needs no parse: a delivery starts as the publish did.
    if (text.startsWith('{"type":"publish"')) delivered++;
    else if (text.startsWith('{"type":"pong"')) pongs++;
    else errors++;
  };
  const sockets: { ws: WebSocket; room: string; id: string }[] = [];
  for (let r = 0; r < o.rooms; r++) {
    for (let p = 0; p < o.peers; p++) sockets.push({ ws: await openSocket(o.url, `bench-room-${r}`, onMessage), room: `bench-room-${r}`, id: crypto.randomUUID() });
  }
  // Every subscribe is in effect once every socket's ping after it is answered (the reference answers in order too).
  for (const s of sockets) s.ws.send('{"type":"ping"}');
  for (let waited = 0; pongs < sockets.length && waited < 10_000; waited += 5) await Bun.sleep(5);
  let published = 0;
  let i = 0;
  const tickMs = 20;
  const perTick = (o.rate * tickMs) / 1000;
  let owed = 0;
  const timer = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--) for (const s of sockets) (s.ws.send(signal(s.room, s.id, i++)), published++);
  }, tickMs);
  await Bun.sleep(o.warmupSeconds * 1000);
  // The server's CPU from the window's start until the last delivery arrived (the few in flight at the start are noise).
  const cpu = () => (o.serverPid ? cpuTime(o.serverPid) : undefined);
  const [deliveredBefore, publishedBefore, before] = [delivered, published, cpu()];
  const start = performance.now();
  await Bun.sleep(o.seconds * 1000);
  clearInterval(timer);
  const elapsedMs = performance.now() - start;
  for (let waited = 0; delivered < published * o.peers && waited < 5000; waited += 10) await Bun.sleep(10);
  const used = cpuDelta(before, cpu());
  for (const s of sockets) s.ws.close();
  const cpuMs = used && (used.userMicros + used.systemMicros) / 1000;
  const inWindow = delivered - deliveredBefore;
  return {
    published: published - publishedBefore,
    delivered: inWindow,
    missing: published * o.peers - delivered,
    errors,
    elapsedMs,
    deliveredPerSec: (inWindow * 1000) / elapsedMs,
    serverCpuMs: cpuMs,
    serverSystemCpuMs: used && used.systemMicros / 1000,
    serverCpuMicrosPerMessage: cpuMs === undefined || inWindow === 0 ? undefined : (cpuMs * 1000) / inWindow,
  };
}

if (import.meta.main) {
  const result = await runYLoad(JSON.parse(process.argv[2]!) as YLoadOptions);
  console.log(JSON.stringify(result));
  process.exit(0);
}
