// Frames are budgeted by what a socket is doing: a session's frames are paid from
// that session's allowance, everything else from the socket's flat rate. Each limit
// is tried both ways: real use on default flags passes, a flood is cut off.
import { describe, expect, test } from "bun:test";
import { SESSION_FRAMES } from "../../src/signal/session.ts";
import { withServer } from "../helpers/server.ts";
import { offeringVisitor, registeredOrigin, TestSocket, type Json } from "../helpers/ws-client.ts";
import { scrape, value } from "../helpers/metrics.ts";
import { until } from "../helpers/until.ts";

/** Default flags, except that all test traffic comes from one address. */
const DEFAULTS_FROM_ONE_ADDRESS = { wsConnectRate: 100_000 };
const CANDIDATES = 4;

const candidate = (sessionId: string, i: number, podId?: string) => ({
  t: "candidate",
  ...(podId === undefined ? {} : { podId }),
  sessionId,
  candidate: { candidate: `candidate:${i} 1 udp 2122260223 192.0.2.1 ${50_000 + i} typ host`, sdpMid: "0", sdpMLineIndex: 0 },
});

/** An origin that answers every offer at once, then trickles its candidates, as a Host does. */
async function answeringOrigin(wsUrl: string, podId: string): Promise<{ origin: TestSocket; errors: Json[] }> {
  const origin = await registeredOrigin(wsUrl, podId);
  const errors: Json[] = [];
  origin.ws.addEventListener("message", (e) => {
    const m = JSON.parse(String(e.data));
    if (m.t === "error") errors.push(m);
    if (m.t !== "offer") return;
    origin.send({ t: "answer", sessionId: m.sessionId, sdp: "answer" });
    for (let i = 0; i < CANDIDATES; i++) origin.send(candidate(m.sessionId, i));
  });
  return { origin, errors };
}

/** One visitor on a fresh socket: offer and candidates out, answer and candidates in, close. */
async function visit(wsUrl: string, podId: string, sessionId: string): Promise<void> {
  const visitor = await TestSocket.open(wsUrl);
  try {
    visitor.send({ t: "offer", podId, sessionId, sdp: "offer" });
    for (let i = 0; i < CANDIDATES; i++) visitor.send(candidate(sessionId, i, podId));
    for (const t of ["answer", ...Array(CANDIDATES).fill("candidate")]) {
      const m = await visitor.next((m) => m.t === t || m.t === "error");
      if (m.t === "error") throw new Error(m.message);
    }
  } finally {
    visitor.close();
  }
}

/** Visitors arriving at `perSecond` for `seconds`, each running one session. Returns the failures. */
async function visitorsAtRate(wsUrl: string, podId: string, perSecond: number, seconds: number): Promise<string[]> {
  const failures: string[] = [];
  const visits: Promise<unknown>[] = [];
  const start = performance.now();
  for (let i = 0; i < perSecond * seconds; i++) {
    const wait = start + (i * 1000) / perSecond - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    visits.push(visit(wsUrl, podId, `visit-${i}`).catch((error: Error) => failures.push(error.message)));
  }
  await Promise.all(visits);
  return failures;
}

/** Sends `count` frames at once and expects the rate-limit error, then close 1008. */
async function floodIsCutOff(socket: TestSocket, count: number, frame: (i: number) => Json | string): Promise<void> {
  for (let i = 0; i < count && socket.ws.readyState === WebSocket.OPEN; i++) socket.send(frame(i));
  expect(await socket.next((m) => /rate limit exceeded/.test(m.message ?? ""))).toMatchObject({ t: "error" });
  expect((await socket.closed).code).toBe(1008);
}

describe("session budgets on default flags", () => {
  test("one origin serves 50 visitors/s back to back for 3 s with no errors", () =>
    withServer(DEFAULTS_FROM_ONE_ADDRESS, async (srv) => {
      const { origin, errors } = await answeringOrigin(srv.wsUrl, "busy-pod");
      const failures = await visitorsAtRate(srv.wsUrl, "busy-pod", 50, 3);
      expect(failures).toEqual([]);
      expect(errors).toEqual([]);
      expect(origin.ws.readyState).toBe(WebSocket.OPEN);
      expect(srv.server.origins()).toEqual(["busy-pod"]);
      origin.close();
    }));

  test("an origin flooding junk, unknown sessions or one session's candidates is cut off", () =>
    withServer(DEFAULTS_FROM_ONE_ADDRESS, async (srv) => {
      const junk = await registeredOrigin(srv.wsUrl, "junk-pod");
      await floodIsCutOff(junk, 1000, () => "not json");
      const unknown = await registeredOrigin(srv.wsUrl, "unknown-pod");
      await floodIsCutOff(unknown, 1000, (i) => candidate(`nobody-${i}`, i));
      const greedy = await registeredOrigin(srv.wsUrl, "greedy-pod");
      const visitor = await offeringVisitor(srv.wsUrl, greedy, "greedy-pod", "s1");
      greedy.send({ t: "answer", sessionId: "s1", sdp: "a" });
      await floodIsCutOff(greedy, 1000, (i) => candidate("s1", i));
      // The visitor was told its origin went away.
      expect(await visitor.next({ t: "error" })).toMatchObject({ sessionId: "s1", message: "origin offline" });
      visitor.close();
    }));

  test("an origin that served many sessions still cannot flood: its spare is capped", () =>
    withServer(DEFAULTS_FROM_ONE_ADDRESS, async (srv) => {
      const { origin } = await answeringOrigin(srv.wsUrl, "spent-pod");
      for (let i = 0; i < 40; i++) await visit(srv.wsUrl, "spent-pod", `done-${i}`);
      await until("the visitors' closes reach the broker", () => srv.server.sessions() === 0);
      await floodIsCutOff(origin, 5000, (i) => candidate(`gone-${i}`, i));
    }));

  test("a visitor flooding junk or its own session's candidates is cut off; the origin stays", () =>
    withServer(DEFAULTS_FROM_ONE_ADDRESS, async (srv) => {
      const origin = await registeredOrigin(srv.wsUrl, "calm-pod");
      const junk = await TestSocket.open(srv.wsUrl);
      await floodIsCutOff(junk, 1000, () => "{");
      const flooder = await offeringVisitor(srv.wsUrl, origin, "calm-pod", "f1");
      await floodIsCutOff(flooder, 1000, (i) => candidate("f1", i, "calm-pod"));
      await offeringVisitor(srv.wsUrl, origin, "calm-pod", "after");
      expect(origin.ws.readyState).toBe(WebSocket.OPEN);
      origin.close();
    }));
});

describe("session budgets, exactly (a flat rate of 1 message/s, bursts of 2)", () => {
  test("a session's own frames are paid from its allowance, beyond it from the flat rate", () =>
    withServer({ wsMessageRate: 1 }, async (srv) => {
      const origin = await registeredOrigin(srv.wsUrl, "exact-pod"); // 1 of 2 tokens left
      const visitor = await offeringVisitor(srv.wsUrl, origin, "exact-pod", "x1");
      origin.send({ t: "answer", sessionId: "x1", sdp: "a" });
      // The rest of the allowance and the last token: all relayed.
      for (let i = 0; i < SESSION_FRAMES; i++) origin.send(candidate("x1", i));
      for (let i = 0; i < SESSION_FRAMES; i++) await visitor.next({ t: "candidate" });
      origin.send(candidate("x1", 99));
      expect(await origin.next({ t: "error" })).toMatchObject({ message: "rate limit exceeded (1 messages/s)" });
      expect((await origin.closed).code).toBe(1008);
      visitor.close();
    }));

  test("late candidates for a session whose visitor left are paid from the origin's spare", () =>
    withServer({ wsMessageRate: 1 }, async (srv) => {
      const origin = await registeredOrigin(srv.wsUrl, "late-pod");
      const visitor = await offeringVisitor(srv.wsUrl, origin, "late-pod", "l1");
      origin.send({ t: "answer", sessionId: "l1", sdp: "a" });
      await visitor.next({ t: "answer" });
      visitor.close();
      await until("the visitor's close reaches the broker", () => srv.server.sessions() === 0);
      // SESSION_FRAMES - 1 left over, plus the last flat token. Any message would cost a token,
      // so the marker that the broker took them all is its candidate count, read over HTTP.
      const candidates = async () => value(await scrape(srv.url), 'gemmapod_signal_relayed_frames_total{type="candidate"}');
      const before = await candidates();
      for (let i = 0; i < SESSION_FRAMES; i++) origin.send(candidate("l1", i));
      await until("the broker took every late candidate", async () => (await candidates()) === before + SESSION_FRAMES);
      expect(origin.unread({ t: "error" })).toEqual([]);
      expect(origin.ws.readyState).toBe(WebSocket.OPEN);
      origin.send(candidate("l1", 99));
      expect((await origin.closed).code).toBe(1008);
    }));
});
