// WebSocket tracker load generator, run as its own process so its CPU never counts as the
// server's. Ids are 20-character binary strings as WebTorrent makes them.
// - "relay": `swarms` swarms of `peers` answering peers each, and one offerer per swarm that
//   announces with 5 offers (1 KB SDP each), waits for its reply and the 5 answers, and again.
//   Measures offers and answers relayed per second and server CPU per relayed message.
// - "idle": `connections` sockets each announce once (no offers) into one of 100 swarms and
//   stay ("connected": they only connect); measures the server's resident memory per connection.
//   bun scripts/bench/tracker-load.ts '<TrackerLoadOptions as JSON>'
import { cpuTime, rssKiB, steadyWindow } from "./proc.ts";

export interface TrackerLoadOptions {
  /** ws://host:port/path of the tracker. */
  url: string;
  mode: "relay" | "idle" | "connected";
  swarms: number;
  peers: number;
  connections: number;
  seconds: number;
  serverPid?: number;
}

export interface TrackerLoadResult {
  mode: TrackerLoadOptions["mode"];
  relayedMessages: number;
  elapsedMs: number;
  messagesPerSec: number;
  serverCpuMs?: number;
  serverCpuMicrosPerMessage?: number;
  /** Idle: resident memory the connections added, per connection. */
  bytesPerConnection?: number;
  failures: number;
}

const OFFERS = 5;
const SDP = `v=0\r\n${"a=candidate:1 1 udp 2122260223 192.168.1.2 50000 typ host\r\n".repeat(17)}`;

function binaryId(): string {
  return String.fromCharCode(...crypto.getRandomValues(new Uint8Array(20)));
}

function open(url: string, onFrame: (m: any) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("connect failed"));
    ws.onmessage = (e) => onFrame(JSON.parse(String(e.data)));
  });
}

/** A socket that announced into `infoHash` and got its reply; later frames go to `onFrame`. */
async function joined(url: string, infoHash: string | null, peerId: string, onFrame: (m: any, ws: WebSocket) => void, count: { failures: number }): Promise<WebSocket> {
  let replied!: () => void;
  const reply = new Promise<void>((resolve) => (replied = resolve));
  let ws!: WebSocket;
  ws = await open(url, (m) => {
    if (m["failure reason"]) count.failures++;
    if (m.action === "announce" && m.offer === undefined && m.answer === undefined) replied();
    else onFrame(m, ws);
  });
  if (infoHash === null) return ws;
  ws.send(JSON.stringify({ action: "announce", info_hash: infoHash, peer_id: peerId, numwant: 0, uploaded: 0, downloaded: 0, left: 0, event: "started" }));
  await reply;
  return ws;
}

async function measureRelay(o: TrackerLoadOptions): Promise<{ delivered: number; elapsedMs: number; cpuMs?: number; failures: number }> {
  const count = { failures: 0 };
  let delivered = 0;
  let running = true;
  const sockets: WebSocket[] = [];
  const offerers: (() => void)[] = [];
  for (let s = 0; s < o.swarms; s++) {
    const infoHash = binaryId();
    for (let p = 0; p < o.peers; p++) {
      const peerId = binaryId();
      sockets.push(
        await joined(o.url, infoHash, peerId, (m, ws) => {
          if (!m.offer) return;
          delivered++;
          ws.send(JSON.stringify({ action: "announce", info_hash: infoHash, peer_id: peerId, to_peer_id: m.peer_id, offer_id: m.offer_id, answer: { type: "answer", sdp: SDP } }));
        }, count),
      );
    }
    const offererId = binaryId();
    let waiting = 0;
    let offerer!: WebSocket;
    const round = () => {
      if (!running) return;
      waiting = OFFERS + 1;
      const offers = Array.from({ length: OFFERS }, () => ({ offer_id: binaryId(), offer: { type: "offer", sdp: SDP } }));
      offerer.send(JSON.stringify({ action: "announce", info_hash: infoHash, peer_id: offererId, numwant: OFFERS, uploaded: 0, downloaded: 0, left: 100, offers }));
    };
    offerer = await open(o.url, (m) => {
      if (m["failure reason"]) count.failures++;
      if (m.answer) delivered++;
      if (--waiting === 0) round();
    });
    sockets.push(offerer);
    offerers.push(round);
  }
  const cpu = () => (o.serverPid ? cpuTime(o.serverPid) : undefined);
  for (const start of offerers) start();
  const { elapsedMs, used } = await steadyWindow(o.seconds, cpu, () => (running = false));
  for (const ws of sockets) ws.close();
  return { delivered, elapsedMs, cpuMs: used && (used.userMicros + used.systemMicros) / 1000, failures: count.failures };
}

async function measureIdle(o: TrackerLoadOptions): Promise<{ bytesPerConnection?: number; elapsedMs: number; failures: number }> {
  const count = { failures: 0 };
  const hashes = Array.from({ length: 100 }, binaryId);
  const rss = () => (o.serverPid ? rssKiB(o.serverPid) : undefined);
  await Bun.sleep(500);
  const before = rss();
  const start = performance.now();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < o.connections; i += 100) {
    const batch = Array.from({ length: Math.min(100, o.connections - i) }, (_, j) => joined(o.url, o.mode === "idle" ? hashes[(i + j) % hashes.length]! : null, binaryId(), () => {}, count));
    sockets.push(...(await Promise.all(batch)));
  }
  const elapsedMs = performance.now() - start;
  // Let both runtimes settle (their collectors run on idle) before reading.
  await Bun.sleep(2000);
  const after = rss();
  for (const ws of sockets) ws.close();
  return { bytesPerConnection: before === undefined || after === undefined ? undefined : ((after - before) * 1024) / o.connections, elapsedMs, failures: count.failures };
}

export async function runTrackerLoad(o: TrackerLoadOptions): Promise<TrackerLoadResult> {
  if (o.mode !== "relay") return { mode: o.mode, relayedMessages: 0, messagesPerSec: 0, ...(await measureIdle(o)) };
  const { delivered, elapsedMs, cpuMs, failures } = await measureRelay(o);
  return {
    mode: "relay",
    relayedMessages: delivered,
    elapsedMs,
    messagesPerSec: (delivered * 1000) / elapsedMs,
    serverCpuMs: cpuMs,
    serverCpuMicrosPerMessage: cpuMs === undefined || delivered === 0 ? undefined : (cpuMs * 1000) / delivered,
    failures,
  };
}

if (import.meta.main) {
  const result = await runTrackerLoad(JSON.parse(process.argv[2]!) as TrackerLoadOptions);
  console.log(JSON.stringify(result));
  process.exit(0);
}
