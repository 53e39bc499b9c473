// Throws 100,000+ seeded hostile frames at a running broker over 8 sockets while a
// legitimate origin and visitor negotiate; the broker must stay up, keep its
// state bounded, and keep serving the legitimate pair during and after.
import { expect, test } from "bun:test";
import { startServer } from "../helpers/server.ts";
import { registeredOrigin, TestSocket } from "../helpers/ws-client.ts";
import { mutateText, randomJson, seeded, type Rng } from "./random.ts";
import { until } from "../helpers/until.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const FRAMES = 100_000;
const SOCKETS = 8;

const templates = [
  { t: "register", podId: "fuzz-pod" },
  { t: "offer", podId: "fuzz-pod", sessionId: "fz-1", sdp: "v=0\r\n" },
  { t: "answer", sessionId: "fz-1", sdp: "v=0" },
  { t: "candidate", sessionId: "fz-1", podId: "fuzz-pod", candidate: { candidate: "candidate:1 1 udp 1 1.2.3.4 1 typ host", sdpMid: "0", sdpMLineIndex: 0 } },
  { t: "error", sessionId: "fz-1", message: "x" },
].map((m) => JSON.stringify(m));

function hostileFrame(rng: Rng): string | Uint8Array {
  switch (rng.int(6)) {
    case 0:
      return mutateText(rng, rng.pick(templates));
    case 1:
      return JSON.stringify(randomJson(rng));
    case 2:
      return crypto.getRandomValues(new Uint8Array(1 + rng.int(64)));
    case 3:
      return "[".repeat(1 + rng.int(5000));
    case 4:
      return JSON.stringify({ t: "offer", podId: `p${rng.int(50)}`, sessionId: `s${rng.int(10_000)}`, sdp: "x".repeat(rng.int(70_000)) });
    default:
      return rng.pick(templates).replace("fz-1", `fz-${rng.int(1000)}`).replace("fuzz-pod", `fuzz-${rng.int(100)}`);
  }
}

async function negotiate(wsUrl: string, round: number): Promise<void> {
  const origin = await registeredOrigin(wsUrl, `legit-${round}`);
  const visitor = await TestSocket.open(wsUrl);
  visitor.send({ t: "offer", podId: `legit-${round}`, sessionId: `legit-s-${round}`, sdp: "real-offer" });
  expect(await origin.next({ t: "offer" }, 10_000)).toMatchObject({ sdp: "real-offer" });
  origin.send({ t: "answer", sessionId: `legit-s-${round}`, sdp: "real-answer" });
  expect(await visitor.next({ t: "answer" }, 10_000)).toMatchObject({ sdp: "real-answer" });
  origin.close();
  visitor.close();
}

test(`broker survives ${FRAMES} seeded hostile frames (seed ${SEED})`, async () => {
  const srv = startServer({ wsMessageRate: 1_000_000, wsConnectRate: 1_000_000 });
  try {
    const rng = seeded(SEED);
    Bun.gc(true);
    const rssBefore = process.memoryUsage().rss;
    let sent = 0;
    let reconnects = 0;
    const worker = async () => {
      let socket = await TestSocket.open(srv.wsUrl);
      while (sent < FRAMES) {
        if (socket.ws.readyState !== WebSocket.OPEN) {
          // Oversize frames get a socket closed (1009): that is the point; open another.
          socket = await TestSocket.open(srv.wsUrl);
          reconnects++;
        }
        for (let i = 0; i < 200 && sent < FRAMES; i++, sent++) socket.send(hostileFrame(rng));
        // Let the server drain so the client side stays bounded too.
        while (socket.ws.bufferedAmount > 1 << 20) await Bun.sleep(1);
        await Bun.sleep(0);
      }
      socket.close();
    };
    const barrage = Promise.all(Array.from({ length: SOCKETS }, worker));
    await negotiate(srv.wsUrl, 1); // during
    await barrage;
    await negotiate(srv.wsUrl, 2); // after

    expect(sent).toBeGreaterThanOrEqual(FRAMES);
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    // Everything the fuzzers opened is gone with their sockets, once the server saw them close.
    await until("the fuzzers' sessions and origins are freed", () => srv.server.sessions() === 0 && srv.server.origins().every((p) => p.startsWith("legit-")));
    Bun.gc(true);
    const growthMb = (process.memoryUsage().rss - rssBefore) / 1e6;
    console.log(`ws fuzz: ${sent} frames, ${reconnects} reconnects, RSS growth ${growthMb.toFixed(1)} MB (client and server share this process)`);
    expect(growthMb).toBeLessThan(400);
  } finally {
    await srv.close();
  }
}, 60_000);

test("PeerJS survives seeded hostile frames at /peerjs/peerjs; a real pair still talks, and what waited for absent ids drains", async () => {
  const { openPeer, peerjsUrl } = await import("../helpers/peerjs.ts");
  const srv = startServer({ peerjsMessageRate: 1_000_000, wsConnectRate: 1_000_000, peerjsExpireTimeoutMs: 300, peerjsQueueBytes: 1024 * 1024 });
  try {
    const rng = seeded(SEED + 22);
    const peerjsTemplates = ["OFFER", "ANSWER", "CANDIDATE", "LEAVE", "EXPIRE", "HEARTBEAT", "ID-TAKEN", "OPEN"].map((type) => JSON.stringify({ type, dst: "fuzz-1", payload: { sdp: { type: "offer", sdp: "v=0" }, connectionId: "dc_x" } }));
    const frame = (): string | Uint8Array => {
      switch (rng.int(7)) {
        case 0:
          return mutateText(rng, rng.pick(peerjsTemplates));
        case 1:
          return JSON.stringify(randomJson(rng));
        case 2:
          return crypto.getRandomValues(new Uint8Array(1 + rng.int(64)));
        case 3:
          return rng.pick(["null", "[]", "1", '"x"', "{}", '{"type":null}', '{"type":"OFFER"}', '{"type":"OFFER","dst":7}', '{"type":"LEAVE"}', "[".repeat(1 + rng.int(3000))]);
        case 4:
          return JSON.stringify({ type: "OFFER", dst: `absent-${rng.int(5000)}`, payload: "x".repeat(rng.int(70_000)) });
        default:
          return rng.pick(peerjsTemplates).replace("fuzz-1", rng.int(2) ? `fuzz-${rng.int(4)}` : `absent-${rng.int(5000)}`);
      }
    };
    let sent = 0;
    const FRAMES_PEERJS = 30_000;
    const worker = async (n: number) => {
      const url = peerjsUrl(srv.url, { key: "peerjs", id: `fuzz-${n}`, token: `t${n}` });
      let socket = await TestSocket.open(url);
      while (sent < FRAMES_PEERJS) {
        if (socket.ws.readyState !== WebSocket.OPEN) socket = await TestSocket.open(url);
        for (let i = 0; i < 200 && sent < FRAMES_PEERJS; i++, sent++) socket.send(frame());
        while (socket.ws.bufferedAmount > 1 << 20) await Bun.sleep(1);
        await Bun.sleep(0);
      }
      socket.close();
    };
    const pair = async (round: number) => {
      const a = await openPeer(srv.url, `legit-a-${round}`);
      const b = await openPeer(srv.url, `legit-b-${round}`);
      a.send({ type: "OFFER", dst: `legit-b-${round}`, payload: { sdp: "real" } });
      expect(await b.next({ type: "OFFER" }, 10_000)).toEqual({ type: "OFFER", src: `legit-a-${round}`, dst: `legit-b-${round}`, payload: { sdp: "real" } });
      a.close();
      b.close();
    };
    const barrage = Promise.all([0, 1, 2, 3].map(worker));
    await pair(1);
    await barrage;
    await pair(2);
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    await Bun.sleep(800);
    expect(await (await fetch(`${srv.url}/metrics`)).text()).toContain("gemmapod_signal_peerjs_held_messages 0");
  } finally {
    await srv.close();
  }
}, 60_000);

// WS /announce: seeded hostile tracker frames (ids of every code point 0–255, offers of every
// shape) over 4 sockets while a legitimate pair relays an offer and answer, during and after.
test("the tracker survives 30,000 seeded hostile frames", async () => {
  const { binaryId, joinedPeer, offers, trackerPeer, trackerUrl } = await import("../helpers/tracker.ts");
  const srv = startServer({ wsConnectRate: 1_000_000, trackerAnnounceBudget: 1_000_000 });
  try {
    const url = trackerUrl(srv);
    const rng = seeded(SEED + 25);
    const id = () => String.fromCharCode(...Array.from({ length: rng.int(3) === 0 ? rng.int(25) : 20 }, () => rng.int(rng.int(9) === 0 ? 0x800 : 256)));
    const hashes = Array.from({ length: 8 }, binaryId);
    const frame = (): string | Uint8Array => {
      const base = { action: rng.pick(["announce", "announce", "scrape", "x"]), info_hash: rng.int(4) ? rng.pick(hashes) : id(), peer_id: rng.int(4) ? binaryId() : id() };
      const extra = rng.pick([{}, { event: rng.pick(["started", "stopped", "completed", "paused", "update", "?"]) }, { offers: offers(rng.int(12)) }, { offers: [null, 1, { offer: {} }] }, { answer: { type: "answer", sdp: "a" }, to_peer_id: id(), offer_id: id() }, { answer: randomJson(rng) }, { info_hash: hashes }]);
      switch (rng.int(5)) {
        case 0:
          return mutateText(rng, JSON.stringify({ ...base, ...extra }));
        case 1:
          return JSON.stringify(randomJson(rng));
        case 2:
          return crypto.getRandomValues(new Uint8Array(1 + rng.int(64)));
        default:
          return JSON.stringify({ ...base, ...extra });
      }
    };
    const legit = async () => {
      const hash = binaryId();
      const a = await joinedPeer(url, hash);
      const b = await trackerPeer(url);
      b.announce(hash, { offers: offers(1) });
      const offer = await a.socket.next((m) => m.offer !== undefined, 10_000);
      a.announce(hash, { to_peer_id: b.peerId, offer_id: offer.offer_id, answer: { type: "answer", sdp: "real" } });
      expect(await b.socket.next((m) => m.answer !== undefined, 10_000)).toMatchObject({ peer_id: a.peerId });
      a.socket.close();
      b.socket.close();
    };
    let sent = 0;
    const worker = async () => {
      let socket = await TestSocket.open(url);
      while (sent < 30_000) {
        if (socket.ws.readyState !== WebSocket.OPEN) socket = await TestSocket.open(url);
        for (let i = 0; i < 200 && sent < 30_000; i++, sent++) socket.send(frame());
        while (socket.ws.bufferedAmount > 1 << 20) await Bun.sleep(1);
        await Bun.sleep(0);
      }
      socket.close();
    };
    const barrage = Promise.all(Array.from({ length: 4 }, worker));
    await legit();
    await barrage;
    await legit();
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    // Every swarm the fuzzers entered is freed with their sockets.
    for (let i = 0; ; i++) {
      const metrics = await (await fetch(`${srv.url}/metrics`)).text();
      if (/^gemmapod_signal_tracker_swarms 0$/m.test(metrics)) break;
      if (i > 50) throw new Error("tracker swarms were left behind");
      await Bun.sleep(50);
    }
  } finally {
    await srv.close();
  }
}, 60_000);

// WS /y-webrtc: seeded hostile frames from sockets that subscribe to random topics
// too (budget flags lifted, so the frames reach the parser), while a legitimate
// pair exchanges publishes; afterwards no topic is left behind.
const Y_FRAMES = 30_000;
const yTemplates = [
  { type: "subscribe", topics: ["fz-room"] },
  { type: "unsubscribe", topics: ["fz-room"] },
  { type: "publish", topic: "fz-room", data: { type: "announce", from: "fz" } },
  { type: "publish", topic: "fz-room", data: { type: "signal", from: "fz", to: "x", token: 0.1, signal: { type: "offer", sdp: "v=0" } } },
  { type: "ping" },
].map((m) => JSON.stringify(m));

function hostileYFrame(rng: Rng): string | Uint8Array {
  switch (rng.int(7)) {
    case 0:
      return mutateText(rng, rng.pick(yTemplates));
    case 1:
      return JSON.stringify(randomJson(rng));
    case 2:
      return crypto.getRandomValues(new Uint8Array(1 + rng.int(64)));
    case 3:
      return "{".repeat(1 + rng.int(5000));
    case 4:
      return JSON.stringify({ type: "publish", topic: `fz-${rng.int(20)}`, data: "x".repeat(rng.int(70_000)) });
    case 5:
      return JSON.stringify({ type: rng.pick(["subscribe", "unsubscribe"]), topics: Array.from({ length: rng.int(80) }, () => (rng.int(4) === 0 ? rng.int(9) : `fz-${rng.int(500)}`)) });
    default:
      return rng.pick(yTemplates).replaceAll("fz-room", `fz-${rng.int(20)}`);
  }
}

test(`y-webrtc survives ${Y_FRAMES} seeded hostile frames (seed ${SEED})`, async () => {
  const srv = startServer({ wsConnectRate: 1_000_000, yWebrtcPublishRate: 1_000_000 });
  const url = `${srv.url.replace(/^http/, "ws")}/y-webrtc`;
  try {
    const rng = seeded(SEED + 24);
    let sent = 0;
    const worker = async () => {
      let socket = await TestSocket.open(url);
      while (sent < Y_FRAMES) {
        if (socket.ws.readyState !== WebSocket.OPEN) socket = await TestSocket.open(url);
        for (let i = 0; i < 200 && sent < Y_FRAMES; i++, sent++) socket.send(hostileYFrame(rng));
        while (socket.ws.bufferedAmount > 1 << 20) await Bun.sleep(1);
        await Bun.sleep(0);
      }
      socket.close();
    };
    const legit = async (round: number) => {
      const [a, b] = [await TestSocket.open(url), await TestSocket.open(url)];
      for (const s of [a, b]) {
        s.send({ type: "subscribe", topics: [`legit-${round}`] });
        s.send({ type: "ping" });
        await s.next({ type: "pong" }, 10_000);
      }
      a.send({ type: "publish", topic: `legit-${round}`, data: "hello" });
      expect(await b.next({ type: "publish" }, 10_000)).toEqual({ type: "publish", topic: `legit-${round}`, data: "hello", clients: 2 });
      a.close();
      b.close();
    };
    const barrage = Promise.all(Array.from({ length: 4 }, worker));
    await legit(1); // during
    await barrage;
    await legit(2); // after
    await Bun.sleep(300);
    expect(await (await fetch(`${srv.url}/metrics`)).text()).toContain("gemmapod_signal_ywebrtc_topics 0");
  } finally {
    await srv.close();
  }
}, 60_000);
