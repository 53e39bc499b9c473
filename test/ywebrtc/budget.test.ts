// The publish budget on the default flags: a newcomer to a 50-peer room signals
// every peer at once and every peer answers, and all of it passes; a flood is
// stopped, in a small room and in that big one.
import { afterAll, expect, test } from "bun:test";
import { startServer } from "../helpers/server.ts";
import { ySubscriber, yUrl } from "../helpers/ywebrtc.ts";

const srv = startServer();
const url = yUrl(srv.url);
afterAll(() => srv.close());

/** A raw y-webrtc socket (its id is also the room it floods) that counts what it receives and remembers errors and its close. */
class Counting {
  publishes = 0;
  errors: string[] = [];
  closeCode?: number;
  onPublish: (m: any) => void = () => {};
  constructor(readonly ws: WebSocket, readonly id: string) {
    ws.addEventListener("message", (e) => {
      const m = JSON.parse(String(e.data));
      if (m.type === "publish") {
        this.publishes++;
        this.onPublish(m);
      } else if (m.type === "error") this.errors.push(m.message);
    });
    ws.addEventListener("close", (e) => (this.closeCode = e.code));
  }
  static async join(room: string, id: string): Promise<Counting> {
    const s = await ySubscriber(url, [room]); // subscribed once its ping was answered
    return new Counting(s.ws, id);
  }
  send(m: unknown): void {
    this.ws.send(JSON.stringify(m));
  }
}

const sdp = (kind: string) => `v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n${`a=${kind}-line:${"x".repeat(60)}\r\n`.repeat(20)}`;
const candidate = (i: number) => ({ type: "candidate", candidate: { candidate: `candidate:${i} 1 udp 2122260223 192.168.1.${i} 5${i}000 typ host generation 0 ufrag abcd network-id 1`, sdpMLineIndex: 0, sdpMid: "0" } });
const CANDIDATES = 8;

/** What y-webrtc sends to negotiate with one peer: an offer or answer, then its candidates. */
function signals(room: string, from: string, to: string, kind: "offer" | "answer") {
  const signal = (s: unknown) => ({ type: "publish", topic: room, data: { type: "signal", from, to, token: 0.42, signal: s } });
  return [signal({ type: kind, sdp: sdp(kind) }), ...Array.from({ length: CANDIDATES }, (_, i) => signal(candidate(i)))];
}

async function until(ok: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await Bun.sleep(20);
  }
}

test("a newcomer to a 50-peer room signals everyone and everyone answers, on the default flags", async () => {
  const room = "fifty";
  const peers: Counting[] = [];
  for (let i = 0; i < 49; i++) peers.push(await Counting.join(room, `p${i}`));
  // Each peer answers the announce as y-webrtc does: it offers to the newcomer, with its candidates.
  for (const p of peers) {
    p.onPublish = (m) => {
      if (m.data?.type === "announce" && m.data.from === "newcomer") for (const s of signals(room, p.id, "newcomer", "offer")) p.send(s);
    };
  }
  const newcomer = await Counting.join(room, "newcomer");
  newcomer.send({ type: "publish", topic: room, data: { type: "announce", from: "newcomer" } });
  // ... and the newcomer answers every offer at once, with its own candidates.
  newcomer.onPublish = (m) => {
    if (m.data?.type === "signal" && m.data.to === "newcomer" && m.data.signal.type === "offer") for (const s of signals(room, "newcomer", m.data.from, "answer")) newcomer.send(s);
  };
  const everyone = [...peers, newcomer];
  const expected = 1 + 2 * 49 * (1 + CANDIDATES);
  await until(() => everyone.every((s) => s.publishes === expected) || everyone.some((s) => s.errors.length > 0 || s.closeCode !== undefined), 30_000, () => `received ${everyone.map((s) => s.publishes).join(",")} of ${expected}`);
  for (const s of everyone) {
    expect(s.errors).toEqual([]);
    expect(s.closeCode).toBeUndefined();
    expect(s.publishes).toBe(expected);
  }
  for (const s of everyone) s.ws.close();
}, 60_000);

async function flood(room: Counting[], flooder: Counting, frames: number): Promise<number> {
  const [watcher] = room;
  const before = watcher!.publishes;
  for (let i = 0; i < frames && flooder.ws.readyState === WebSocket.OPEN; i++) flooder.send({ type: "publish", topic: flooder.id, data: { type: "signal", i } });
  await until(() => flooder.closeCode !== undefined, 10_000, () => "the flooder was not closed");
  await Bun.sleep(200);
  return watcher!.publishes - before;
}

test("a flood is stopped: closed with an error after the socket's burst, in a small room and in a 50-peer one", async () => {
  for (const size of [2, 50]) {
    const room = `flood-${size}`;
    const members: Counting[] = [];
    for (let i = 0; i < size; i++) members.push(await Counting.join(room, room));
    const flooder = members[size - 1]!;
    const delivered = await flood(members, flooder, 20_000);
    expect(flooder.closeCode).toBe(1008);
    expect(flooder.errors.some((e) => e.startsWith("rate limit exceeded"))).toBe(true);
    // The burst: twice the flat rate, plus --y-webrtc-peer-burst (24) for each other peer; a little refill.
    expect(delivered).toBeLessThan(40 + 24 * (size - 1) + 200);
    expect(delivered).toBeGreaterThan(20);
    for (const m of members) m.ws.close();
  }
}, 60_000);

/** As y-webrtc's SignalingConn does on open: one subscribe with every room, then an announce in each; all must pass. */
async function reconnectWithRooms(yws: string, rooms: number): Promise<void> {
  const ws = new WebSocket(yws);
  await new Promise((r) => ws.addEventListener("open", r, { once: true }));
  const s = new Counting(ws, "docs");
  const topics = Array.from({ length: rooms }, (_, i) => `doc-${crypto.randomUUID()}-${i}`);
  s.send({ type: "subscribe", topics });
  for (const topic of topics) s.send({ type: "publish", topic, data: { type: "announce", from: "docs" } });
  // Its own announces come back (it is subscribed), all of them.
  await until(() => s.publishes === topics.length || s.closeCode !== undefined, 5000, () => `${s.publishes} announces back, errors ${s.errors}`);
  expect(s.errors).toEqual([]);
  expect(s.closeCode).toBeUndefined();
  ws.close();
}

test("a client reconnecting with 60 rooms it is alone in (one per open document) subscribes and announces in each at once, and stays", async () => {
  await reconnectWithRooms(url, 60);
});
