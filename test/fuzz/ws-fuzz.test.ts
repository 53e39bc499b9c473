// Throws 100,000+ seeded hostile frames at a running broker over 8 sockets while a
// legitimate origin and visitor negotiate; the broker must stay up, keep its
// state bounded, and keep serving the legitimate pair during and after.
import { expect, test } from "bun:test";
import { startServer } from "../helpers/server.ts";
import { registeredOrigin, TestSocket } from "../helpers/ws-client.ts";
import { mutateText, randomJson, seeded, type Rng } from "./random.ts";

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
    await Bun.sleep(200);
    await negotiate(srv.wsUrl, 2); // after

    expect(sent).toBeGreaterThanOrEqual(FRAMES);
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    await Bun.sleep(200);
    // Everything the fuzzers opened is gone with their sockets.
    expect(srv.server.sessions()).toBe(0);
    expect(srv.server.origins().filter((p) => !p.startsWith("legit-"))).toEqual([]);
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
