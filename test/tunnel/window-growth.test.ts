// Growing windows: the rule (window.ts) on its own, then spoken by hand over /.tunnel.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { grownWindow, growingWindows, MIN_WINDOW, ReceiveWindow, SendCredit, WindowBudget, type GrowthState } from "../../src/tunnel/window.ts";
import { encodeFrame, FRAME, MAX_CHUNK_BYTES } from "../../src/tunnel/protocol.ts";
import { newKey, RawTunnelSocket, uniqueName } from "./harness.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const KiB = 1024;
const MiB = 1024 * 1024;
// 512 KiB arrived at 5 MiB/s over a 100 ms path: a tenth of what the path holds.
const blocked = (over: Partial<GrowthState> = {}): GrowthState => ({ window: 512 * KiB, max: 16 * MiB, senderWindow: 512 * KiB, held: 0, rate: (5 * MiB) / 1000, minRttMs: 100, ...over });

test("the window doubles when the sender ran out of credit with the bytes in the pipe, up to the maximum", () => {
  expect(grownWindow(blocked())).toBe(1 * MiB);
  const fast = { rate: (100 * MiB) / 1000 };
  expect(grownWindow(blocked({ ...fast, window: 12 * MiB, senderWindow: 12 * MiB }))).toBe(16 * MiB);
  expect(grownWindow(blocked({ ...fast, window: 16 * MiB, senderWindow: 16 * MiB }))).toBe(16 * MiB);
});

test("no growth for a slow reader, a stale report, or a window not all in flight", () => {
  // Half the window waiting here: the reader, not the window, is what limits.
  expect(grownWindow(blocked({ held: 256 * KiB + 1 }))).toBe(512 * KiB);
  expect(grownWindow(blocked({ held: 256 * KiB }))).toBe(1 * MiB);
  // The sender had not seen our last doubling yet.
  expect(grownWindow(blocked({ window: 1 * MiB, senderWindow: 512 * KiB }))).toBe(1 * MiB);
  // Nothing measured yet: no growth on a guess.
  expect(grownWindow(blocked({ rate: undefined }))).toBe(512 * KiB);
  expect(grownWindow(blocked({ minRttMs: undefined }))).toBe(512 * KiB);
  // Loopback: 300 MiB/s over 0.2 ms is 60 KiB in flight; 512 KiB is plenty. Even over a
  // round trip stretched to 0.8 ms by a busy machine, 512 KiB is more than 1.5× what flies.
  expect(grownWindow(blocked({ rate: (300 * MiB) / 1000, minRttMs: 0.2 }))).toBe(512 * KiB);
  expect(grownWindow(blocked({ rate: (350 * MiB) / 1000, minRttMs: 0.8 }))).toBe(512 * KiB);
  // 512 KiB in 150 ms over a 100 ms path: a third of the window is queued, not in flight.
  expect(grownWindow(blocked({ rate: (512 * KiB) / 150 }))).toBe(512 * KiB);
  expect(grownWindow(blocked({ rate: (512 * KiB) / 150 + 1 }))).toBe(1 * MiB);
});

test("windows come out of the tunnel's budget and the broker's, beyond 64 KiB each, and go back", () => {
  const all = new WindowBudget(10 * MiB);
  const tunnelA = new WindowBudget(8 * MiB, all);
  const tunnelB = new WindowBudget(8 * MiB, all);
  const a = [1, 2, 3].map(() => new ReceiveWindow(4 * MiB, 16 * MiB, tunnelA));
  // A's share is 8 MiB: two full windows, then the floor every body gets.
  expect(a.map((w) => w.window)).toEqual([4 * MiB, 4 * MiB, MIN_WINDOW + 128 * KiB]);
  expect(tunnelA.inUse()).toBe(8 * MiB);
  // The broker's 10 MiB leave B 2 MiB.
  const b = new ReceiveWindow(4 * MiB, 16 * MiB, tunnelB);
  expect(b.window).toBe(MIN_WINDOW + 2 * MiB);
  expect(all.inUse()).toBe(10 * MiB);
  // A full budget: no growth (and so no credit frame for a sliver).
  expect(b.blocked(b.window, 0, 100)).toEqual({ kind: "keep" });
  for (const w of a) w.release();
  b.release();
  b.release();
  expect(all.inUse()).toBe(0);
  expect(new ReceiveWindow(4 * MiB, 16 * MiB, tunnelB).window).toBe(4 * MiB);
});

/** A clock the test moves. */
let now = 0;
const clock = () => now;

/** `windows` windows' worth arriving, one every `ms`. */
function arrive(w: ReceiveWindow, windows: number, ms: number): void {
  for (let i = 0; i < windows; i++) {
    now += ms;
    w.arrived(w.window);
  }
}

test("a receive window grows on a report once two windows' worth arrived, and not again on a stale one", () => {
  const budget = new WindowBudget(64 * MiB);
  const w = new ReceiveWindow(512 * KiB, 4 * MiB, budget, MIN_WINDOW, clock);
  // No rate yet: not two windows arrived (one fast one may be a burst out of a socket buffer).
  expect(w.blocked(512 * KiB, 0, 100)).toEqual({ kind: "keep" });
  arrive(w, 1, 20);
  expect(w.blocked(512 * KiB, 0, 100)).toEqual({ kind: "keep" });
  arrive(w, 1, 20);
  // No round trip measured: no growth.
  expect(w.blocked(512 * KiB, 0, undefined)).toEqual({ kind: "keep" });
  expect(w.blocked(512 * KiB, 0, 100)).toEqual({ kind: "grow", extra: 512 * KiB });
  expect(w.window).toBe(1 * MiB);
  expect(budget.inUse()).toBe(1 * MiB - MIN_WINDOW);
  // A report from before the doubling, and one before any rate with the new window: nothing.
  expect(w.blocked(512 * KiB, 0, 100)).toEqual({ kind: "keep" });
  expect(w.blocked(1 * MiB, 0, 100)).toEqual({ kind: "keep" });
  w.release();
  expect(budget.inUse()).toBe(0);
});

test("a doubling that made the body faster stays and may double again; one that did not is taken back", () => {
  const budget = new WindowBudget(64 * MiB);
  const faster = new ReceiveWindow(512 * KiB, 4 * MiB, budget, MIN_WINDOW, clock);
  arrive(faster, 2, 40); // 512 KiB per 40 ms
  expect(faster.blocked(512 * KiB, 0, 100).kind).toBe("grow");
  arrive(faster, 2, 40); // 1 MiB per 40 ms: twice as fast
  expect(faster.blocked(1 * MiB, 0, 100)).toEqual({ kind: "grow", extra: 1 * MiB });

  const cpuBound = new ReceiveWindow(512 * KiB, 4 * MiB, budget, MIN_WINDOW, clock);
  arrive(cpuBound, 2, 20); // 512 KiB per 20 ms
  expect(cpuBound.blocked(512 * KiB, 0, 100).kind).toBe("grow");
  arrive(cpuBound, 2, 40); // 1 MiB per 40 ms: no faster
  expect(cpuBound.blocked(1 * MiB, 0, 100)).toEqual({ kind: "shrink", from: 1 * MiB });
  expect(cpuBound.window).toBe(512 * KiB);
  // The sender may still send the larger window: taken in, and its credit withheld until paid.
  expect(cpuBound.limit()).toBe(1 * MiB);
  expect(cpuBound.withhold(384 * KiB)).toBe(384 * KiB);
  expect(cpuBound.withhold(384 * KiB)).toBe(128 * KiB);
  expect(cpuBound.withhold(384 * KiB)).toBe(0);
  expect(cpuBound.limit()).toBe(512 * KiB);
  // It grows no more.
  arrive(cpuBound, 2, 40);
  expect(cpuBound.blocked(512 * KiB, 0, 100)).toEqual({ kind: "keep" });
  faster.release();
  cpuBound.release();
  expect(budget.inUse()).toBe(0);
});

test("a shrunk window gives its extra back to the budget once the debt is paid, not only when the body ends", () => {
  const budget = new WindowBudget(64 * MiB);
  const w = new ReceiveWindow(512 * KiB, 4 * MiB, budget, MIN_WINDOW, clock);
  arrive(w, 2, 20);
  expect(w.blocked(512 * KiB, 0, 100).kind).toBe("grow");
  arrive(w, 2, 40);
  expect(w.blocked(1 * MiB, 0, 100).kind).toBe("shrink");
  // The sender may still hold the larger window's credit: the memory stays until it is paid off.
  expect(budget.inUse()).toBe(1 * MiB - MIN_WINDOW);
  w.withhold(256 * KiB);
  expect(budget.inUse()).toBe(1 * MiB - MIN_WINDOW);
  w.withhold(256 * KiB);
  expect(budget.inUse()).toBe(512 * KiB - MIN_WINDOW);
  w.withhold(256 * KiB);
  w.release();
  expect(budget.inUse()).toBe(0);
});

test("a tunnel's bodies start at the largest window they grew to, and half a window that proved too big", () => {
  const windows = growingWindows(512 * KiB, new WindowBudget(64 * MiB));
  windows.grew(4 * MiB);
  windows.grew(2 * MiB);
  expect(windows.start()).toBe(4 * MiB);
  windows.oversized(4 * MiB);
  expect(windows.start()).toBe(2 * MiB);
  windows.oversized(512 * KiB);
  expect(windows.start()).toBe(512 * KiB);
});

test("a sender reports being blocked once per window sent, never at the largest window or to a fixed one", () => {
  const s = new SendCredit(512 * KiB, 4 * MiB);
  s.spent(512 * KiB);
  expect(s.reportBlocked()).toBe(true);
  s.granted(128 * KiB);
  s.spent(128 * KiB);
  expect(s.reportBlocked()).toBe(false);
  s.granted(1024 * KiB, 1 * MiB);
  expect(s.window).toBe(1 * MiB);
  s.spent(1 * MiB);
  expect(s.reportBlocked()).toBe(true);
  // Credit never runs past the largest window, whatever the receiver says.
  s.granted(64 * MiB, 64 * MiB);
  expect(s.window).toBe(4 * MiB);
  expect(s.credit).toBe(4 * MiB);
  expect(s.reportBlocked()).toBe(false);
  const fixed = new SendCredit(512 * KiB, 0);
  fixed.spent(512 * KiB);
  expect(fixed.reportBlocked()).toBe(false);
  fixed.granted(1 * MiB, 2 * MiB);
  expect([fixed.window, fixed.credit]).toEqual([512 * KiB, 512 * KiB]);
});

// Over the wire, with a hand-written client that asked for growing windows.
let srv: TestServer;
beforeAll(() => {
  srv = startServer({ tunnelMaxWindowBytes: 4 * MiB });
});
afterAll(() => srv?.close());

async function growing() {
  const socket = await RawTunnelSocket.open(srv.url);
  await socket.signIn(await newKey(), new URL(srv.url).host);
  const name = uniqueName("grow");
  socket.send({ type: "register", stream: true, grow: true, name });
  const reply = await socket.next((m) => m.type === "registered");
  // The broker measures the path: a pong 100 ms late makes this a long one.
  const { at } = await socket.next((m) => m.type === "ping");
  await Bun.sleep(100);
  socket.send({ type: "pong", at });
  return { socket, reply, url: `${srv.url}/tunnel/${name}` };
}

const sumCredit = (frames: any[], id: number) => frames.filter((m) => m.type === "credit" && m.id === id).reduce((n, m) => n + m.bytes, 0);

test("a client asking for growing windows learns the largest; the broker doubles a drained response window when told it is blocked", async () => {
  const { socket, reply, url } = await growing();
  expect(reply).toMatchObject({ window: 512 * KiB, maxWindow: 4 * MiB });
  const visitor = fetch(`${url}/big`).then((r) => r.arrayBuffer());
  const req = await socket.next((m) => m.type === "request");
  expect(req).toMatchObject({ window: 512 * KiB, bodyWindow: 512 * KiB });
  socket.send({ type: "head", id: req.id, status: 200, headers: {} });
  const piece = crypto.getRandomValues(new Uint8Array(MAX_CHUNK_BYTES));
  // Two windows' worth (a rate is measured over two), each read by the visitor and all granted
  // back: the window was in the pipe, not waiting here.
  for (const granted of [512 * KiB, 1024 * KiB]) {
    await Bun.sleep(15); // a rate is measured over 10 ms at least
    for (let sent = 0; sent < 512 * KiB; sent += MAX_CHUNK_BYTES) socket.send(encodeFrame(FRAME.body, req.id, piece));
    while (sumCredit(socket.frames, req.id) < granted) await Bun.sleep(10);
  }
  socket.send({ type: "blocked", id: req.id, window: 512 * KiB });
  const grown = await socket.next((m) => m.type === "credit" && m.window !== undefined);
  expect(grown).toMatchObject({ id: req.id, window: 1 * MiB });
  // A report from before the doubling is stale: nothing more.
  socket.send({ type: "blocked", id: req.id, window: 512 * KiB });
  await Bun.sleep(100);
  expect(socket.frames.some((m) => m.type === "credit" && m.window !== undefined)).toBe(false);
  // The client may now have a full 1 MiB in flight: the broker takes it without complaint.
  for (let sent = 0; sent < 1 * MiB; sent += MAX_CHUNK_BYTES) socket.send(encodeFrame(FRAME.body, req.id, piece));
  socket.send({ type: "end", id: req.id });
  expect((await visitor).byteLength).toBe(2 * MiB);
  // The next response starts at the window this tunnel grew to.
  void fetch(`${url}/again`).catch(() => {});
  expect(await socket.next((m) => m.type === "request" && m.id !== req.id)).toMatchObject({ window: 1 * MiB });
  socket.ws.close();
});

test("the broker says when it is blocked sending a request body, and starts the next one at the window the client grew to", async () => {
  const { socket, url } = await growing();
  const upload = crypto.getRandomValues(new Uint8Array(64 * KiB)).slice();
  const big = new Uint8Array(2 * MiB);
  for (let at = 0; at < big.byteLength; at += upload.byteLength) big.set(upload, at);
  void fetch(`${url}/up`, { method: "POST", body: big }).catch(() => {});
  const req = await socket.next((m) => m.type === "request");
  expect(await socket.next((m) => m.type === "blocked")).toEqual({ type: "blocked", id: req.id, window: 512 * KiB });
  const bytes = () => socket.frames.filter((f) => f instanceof Uint8Array).reduce((n, f) => n + f.byteLength - 5, 0);
  // The whole window, but for a remainder under 16 KiB that waits for more credit (no slivers).
  expect(bytes()).toBeLessThanOrEqual(512 * KiB);
  expect(bytes()).toBeGreaterThan(512 * KiB - 16 * KiB);
  // The client grows its window to 2 MiB: it credits what it took and the growth.
  socket.send({ type: "credit", id: req.id, bytes: 512 * KiB + 1536 * KiB, window: 2 * MiB });
  while (bytes() < 2 * MiB) await Bun.sleep(10);
  expect(await socket.next((m) => m.type === "end")).toMatchObject({ id: req.id });
  socket.send({ type: "head", id: req.id, status: 204, headers: {} });
  socket.send({ type: "end", id: req.id });
  void fetch(`${url}/up`, { method: "POST", body: upload }).catch(() => {});
  expect(await socket.next((m) => m.type === "request" && m.id !== req.id)).toMatchObject({ bodyWindow: 2 * MiB });
  socket.ws.close();
});

test("an older client (no grow) keeps its fixed window and may still send 128 KiB body frames", async () => {
  const socket = await RawTunnelSocket.open(srv.url);
  await socket.signIn(await newKey(), new URL(srv.url).host);
  const name = uniqueName("old");
  socket.send({ type: "register", stream: true, name });
  expect(await socket.next((m) => m.type === "registered")).toEqual({ type: "registered", name, url: `${srv.url}/tunnel/${name}`, window: 512 * KiB });
  const visitor = fetch(`${srv.url}/tunnel/${name}/old`).then(async (r) => new Uint8Array(await r.arrayBuffer()));
  const req = await socket.next((m) => m.type === "request");
  expect(req.window).toBeUndefined();
  expect(req.bodyWindow).toBeUndefined();
  socket.send({ type: "head", id: req.id, status: 200, headers: {} });
  const body = crypto.getRandomValues(new Uint8Array(128 * KiB));
  socket.send(encodeFrame(FRAME.body, req.id, body));
  socket.send({ type: "end", id: req.id });
  const got = await visitor;
  expect(new Bun.CryptoHasher("sha256").update(got).digest("hex")).toBe(new Bun.CryptoHasher("sha256").update(body).digest("hex"));
  expect(socket.frames.some((m) => m.type === "ping" || m.type === "blocked")).toBe(false);
  socket.ws.close();
});
