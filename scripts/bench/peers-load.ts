// /.webrtc load generator, run as its own process so its CPU never counts as the
// server's. Peers sign in (WebCrypto Ed25519; the bare relay asks for no
// signature), then:
// - "relay": `pairs` pairs, each in its own room, negotiate back to back: the
//   caller sends an offer (2.2 KB SDP) and 4 candidates, the callee answers with
//   an answer and 4 candidates, then the next round starts. Measures relayed
//   messages/s and server CPU per relayed message.
// - "presence": `peers` peers enter one room at once; measured until every one
//   knows all the others. Measures server CPU per join notice delivered.
//   bun scripts/bench/peers-load.ts '<PeersLoadOptions as JSON>'
import { authStatement } from "../../src/identity/auth-statement.ts";
import { cpuDelta, cpuTime, steadyWindow, type CpuTime } from "./proc.ts";
import { CANDIDATES_EACH_WAY, peerFrames } from "./signal-payloads.ts";

export interface PeersLoadOptions {
  /** http://host:port of the server. */
  url: string;
  mode: "relay" | "presence";
  pairs: number;
  peers: number;
  seconds: number;
  /** Our server challenges and verifies; the bare relay does not. */
  signs: boolean;
  serverPid?: number;
}

export interface PeersLoadResult {
  mode: PeersLoadOptions["mode"];
  relayedMessages: number;
  elapsedMs: number;
  messagesPerSec: number;
  serverCpuMs?: number;
  serverSystemCpuMs?: number;
  serverCpuMicrosPerMessage?: number;
}

interface Key {
  id: string;
  pair: CryptoKeyPair;
}

async function newKey(): Promise<Key> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
  return { id: Buffer.from(await crypto.subtle.exportKey("raw", pair.publicKey)).toString("hex"), pair };
}

/** A socket in `room`, resolved once its `peers` list arrived; `onFrame` then gets every frame. */
function enter(options: PeersLoadOptions, room: string, key: Key, onFrame: (m: any) => void): Promise<WebSocket> {
  const url = `${options.url.replace(/^http/, "ws")}/.webrtc?room=${room}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => reject(new Error(`${room}: not in the room within 20 s`)), 20_000);
    const auth = (signature: string) => ws.send(JSON.stringify({ type: "auth", publicKey: key.id, signature }));
    ws.onopen = () => options.signs || auth("");
    ws.onerror = () => reject(new Error(`${room}: connect failed`));
    ws.onmessage = async (event) => {
      const m = JSON.parse(String(event.data));
      if (m.type === "challenge") {
        const statement = new TextEncoder().encode(authStatement(new URL(url).host, m.nonce));
        auth(Buffer.from(await crypto.subtle.sign("Ed25519", key.pair.privateKey, statement)).toString("base64url"));
      } else if (m.type === "peers") {
        clearTimeout(timer);
        resolve(ws);
      }
      if (m.type !== "challenge" && m.type !== "authenticated") onFrame(m);
    };
  });
}

interface Counter {
  delivered: number;
  running: boolean;
}

/** One caller/callee pair in its room; `call()` starts negotiating in a loop while `counter.running`. */
async function pair(options: PeersLoadOptions, index: number, counter: Counter): Promise<{ sockets: WebSocket[]; call: () => void }> {
  const [callerKey, calleeKey] = await Promise.all([newKey(), newKey()]);
  const room = `bench-pair-${index}`;
  let callerGot = 0;
  let caller!: WebSocket;
  let callee!: WebSocket;
  const call = () => {
    caller.send(peerFrames.offer(calleeKey.id));
    for (const c of peerFrames.candidates(calleeKey.id, "caller")) caller.send(c);
  };
  caller = await enter(options, room, callerKey, (m) => {
    if (m.type !== "answer" && m.type !== "candidate") return;
    counter.delivered++;
    // The round ends when the answer and all the callee's candidates are in.
    if (++callerGot === 1 + CANDIDATES_EACH_WAY && counter.running) {
      callerGot = 0;
      call();
    }
  });
  callee = await enter(options, room, calleeKey, (m) => {
    if (m.type !== "offer" && m.type !== "candidate") return;
    counter.delivered++;
    if (m.type !== "offer") return;
    callee.send(peerFrames.answer(callerKey.id));
    for (const c of peerFrames.candidates(callerKey.id, "callee")) callee.send(c);
  });
  return { sockets: [caller, callee], call };
}

async function measureRelay(options: PeersLoadOptions, cpu: () => CpuTime | undefined): Promise<{ delivered: number; elapsedMs: number; used?: CpuTime }> {
  const counter: Counter = { delivered: 0, running: true };
  const pairs = await Promise.all(Array.from({ length: options.pairs }, (_, i) => pair(options, i, counter)));
  const sockets = pairs.flatMap((p) => p.sockets);
  try {
    for (const p of pairs) p.call();
    await Bun.sleep(500); // warm: JITs, buffers
    counter.delivered = 0;
    const { elapsedMs, used } = await steadyWindow(options.seconds, cpu, () => (counter.running = false));
    return { delivered: counter.delivered, elapsedMs, used };
  } finally {
    for (const ws of sockets) ws.close();
  }
}

async function measurePresence(options: PeersLoadOptions, cpu: () => CpuTime | undefined): Promise<{ delivered: number; elapsedMs: number; used?: CpuTime }> {
  const keys = await Promise.all(Array.from({ length: options.peers }, newKey));
  const known = keys.map(() => 0);
  let notices = 0;
  const before = cpu();
  const start = performance.now();
  const sockets = await Promise.all(
    keys.map((key, i) =>
      enter(options, "bench-crowd", key, (m) => {
        if (m.type === "peers") known[i]! += m.peers.length;
        else if (m.type === "peer-joined") (known[i]!++, notices++);
      }),
    ),
  );
  try {
    for (let waited = 0; known.some((n) => n < options.peers - 1) && waited < 30_000; waited += 5) await Bun.sleep(5);
    const elapsedMs = performance.now() - start;
    return { delivered: notices, elapsedMs, used: cpuDelta(before, cpu()) };
  } finally {
    for (const ws of sockets) ws.close();
  }
}

export async function runPeersLoad(options: PeersLoadOptions): Promise<PeersLoadResult> {
  const cpu = () => (options.serverPid ? cpuTime(options.serverPid) : undefined);
  const { delivered, elapsedMs, used } = await (options.mode === "relay" ? measureRelay : measurePresence)(options, cpu);
  const cpuMs = used && (used.userMicros + used.systemMicros) / 1000;
  return {
    mode: options.mode,
    relayedMessages: delivered,
    elapsedMs,
    messagesPerSec: (delivered * 1000) / elapsedMs,
    serverCpuMs: cpuMs,
    serverSystemCpuMs: used && used.systemMicros / 1000,
    serverCpuMicrosPerMessage: cpuMs === undefined || delivered === 0 ? undefined : (cpuMs * 1000) / delivered,
  };
}

if (import.meta.main) {
  const result = await runPeersLoad(JSON.parse(process.argv[2]!) as PeersLoadOptions);
  console.log(JSON.stringify(result));
  process.exit(0);
}
