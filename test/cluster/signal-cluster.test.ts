import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";
import { startNodes, untilHealth } from "../helpers/cluster.ts";
import type { TestServer } from "../helpers/server.ts";
import { registeredOrigin, TestSocket } from "../helpers/ws-client.ts";

const cand = (i: number) => ({ candidate: `candidate:${i} 1 udp 2122260223 10.0.0.1 5${i} typ host`, sdpMid: "0", sdpMLineIndex: 0 });

const ANSWER_TIMEOUT_MS = 3000;

describe.skipIf(!redisOrSkip())("/signal across three nodes on one Redis", () => {
  let redis: TestRedis;
  let a: TestServer, b: TestServer, c: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    // The ordering test's origin answers 400 sessions at once: more than the default per-socket rate.
    // A 3 s answer timeout: short enough for its own test, long enough that no other test's
    // sessions (400 at once in the ordering test) expire on a loaded machine.
    [a, b, c] = await startNodes(redis.url, 3, { wsMessageRate: 10_000, sessionAnswerTimeoutMs: ANSWER_TIMEOUT_MS });
  });

  afterAll(async () => {
    await Promise.all([a, b, c].map((n) => n?.close()));
    await redis?.stop();
  });

  test("a visitor on A and an origin on B: offer, answer and candidates both ways", async () => {
    const origin = await registeredOrigin(b.wsUrl, "pod-ab");
    const visitor = await TestSocket.open(a.wsUrl);
    visitor.send({ t: "offer", podId: "pod-ab", sessionId: "s1", sdp: "v=0 offer" });
    expect(await origin.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "s1", sdp: "v=0 offer" });
    visitor.send({ t: "candidate", sessionId: "s1", candidate: cand(1), podId: "pod-ab" });
    expect(await origin.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "s1", candidate: cand(1) });
    origin.send({ t: "answer", sessionId: "s1", sdp: "v=0 answer" });
    expect(await visitor.next({ t: "answer" })).toEqual({ t: "answer", sessionId: "s1", sdp: "v=0 answer" });
    origin.send({ t: "candidate", sessionId: "s1", candidate: cand(2) });
    expect(await visitor.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "s1", candidate: cand(2) });
    origin.send({ t: "error", sessionId: "s1", message: "ice failed" });
    expect(await visitor.next({ t: "error" })).toEqual({ t: "error", sessionId: "s1", message: "ice failed" });
    // Sessions of other pods, or that do not exist, are unknown to an origin on any node.
    origin.send({ t: "answer", sessionId: "nope", sdp: "x" });
    expect(await origin.next({ t: "error" })).toEqual({ t: "error", sessionId: "nope", message: "unknown session" });
    expect(a.server.sessions()).toBe(1);
    expect(b.server.sessions()).toBe(0);
    visitor.close();
    origin.close();
  });

  test("an offer to a pod with no origin on any node: origin offline", async () => {
    const visitor = await TestSocket.open(c.wsUrl);
    visitor.send({ t: "offer", podId: "pod-nobody", sessionId: "s0", sdp: "x" });
    expect(await visitor.next()).toEqual({ t: "error", sessionId: "s0", message: "origin offline" });
    expect(c.server.sessions()).toBe(0);
    visitor.close();
  });

  test("an origin re-registering on C replaces the one on B (4001); B's pending visitor on A hears origin offline", async () => {
    const first = await registeredOrigin(b.wsUrl, "pod-move");
    const visitor = await TestSocket.open(a.wsUrl);
    visitor.send({ t: "offer", podId: "pod-move", sessionId: "m1", sdp: "x" });
    await first.next({ t: "offer" });
    const second = await registeredOrigin(c.wsUrl, "pod-move");
    expect(await first.closed).toEqual({ code: 4001, reason: "replaced by new origin" });
    expect(await visitor.next({ t: "error" })).toEqual({ t: "error", sessionId: "m1", message: "origin offline" });
    visitor.send({ t: "offer", podId: "pod-move", sessionId: "m2", sdp: "y" });
    expect(await second.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "m2", sdp: "y" });
    await untilHealth(b.url, (h) => !h.origins.includes("pod-move"));
    visitor.close();
    second.close();
  });

  test("an origin that leaves: its visitors on other nodes hear origin offline at once", async () => {
    const origin = await registeredOrigin(b.wsUrl, "pod-leave");
    const visitors = await Promise.all([a, c].map((n) => TestSocket.open(n.wsUrl)));
    visitors.forEach((v, i) => v.send({ t: "offer", podId: "pod-leave", sessionId: `l${i}`, sdp: "x" }));
    await origin.next({ t: "offer", sessionId: "l0" });
    await origin.next({ t: "offer", sessionId: "l1" });
    origin.close();
    // At once: before the answer timeout, which would say "session expired" instead.
    for (const [i, v] of visitors.entries()) expect(await v.next({ t: "error" }, 2 * ANSWER_TIMEOUT_MS)).toEqual({ t: "error", sessionId: `l${i}`, message: "origin offline" });
    expect(a.server.sessions() + c.server.sessions()).toBe(0);
    visitors.forEach((v) => v.close());
  });

  test("the answer timeout runs on the visitor's node; an answer from another node ends it", async () => {
    const origin = await registeredOrigin(b.wsUrl, "pod-timeout");
    const visitor = await TestSocket.open(a.wsUrl);
    visitor.send({ t: "offer", podId: "pod-timeout", sessionId: "t1", sdp: "x" });
    visitor.send({ t: "offer", podId: "pod-timeout", sessionId: "t2", sdp: "x" });
    await origin.next({ t: "offer", sessionId: "t2" });
    origin.send({ t: "answer", sessionId: "t1", sdp: "y" });
    await visitor.next({ t: "answer" });
    const message = "session expired: no answer from the origin in time";
    // t1 was offered first, so its deadline came first: t2's error being the first error
    // the visitor hears shows the answer from B ended t1's timer on A.
    expect(await visitor.next({ t: "error" }, 3 * ANSWER_TIMEOUT_MS)).toEqual({ t: "error", sessionId: "t2", message });
    expect(await origin.next({ t: "error" }, 3 * ANSWER_TIMEOUT_MS)).toEqual({ t: "error", sessionId: "t2", message });
    expect(a.server.sessions()).toBe(1);
    visitor.close();
    origin.close();
  });

  test("ordering: across nodes, no candidate overtakes its offer or answer (400 sessions)", async () => {
    const origin = await registeredOrigin(b.wsUrl, "pod-order");
    const sessions = 400;
    const perVisitor = 8;
    const visitors = await Promise.all(Array.from({ length: sessions / perVisitor }, (_, i) => TestSocket.open([a, c][i % 2]!.wsUrl)));
    const seen = new Map<string, string[]>();
    const originDone = new Promise<void>((resolve) => {
      let offers = 0;
      origin.ws.addEventListener("message", (e) => {
        const m = JSON.parse(String(e.data));
        if (!m.sessionId) return;
        const list = seen.get(m.sessionId) ?? [];
        list.push(m.t);
        seen.set(m.sessionId, list);
        if (m.t === "offer") {
          origin.send({ t: "answer", sessionId: m.sessionId, sdp: "a" });
          origin.send({ t: "candidate", sessionId: m.sessionId, candidate: cand(9) });
          if (++offers === sessions) resolve();
        }
      });
    });
    const visitorOrder = visitors.map(
      (v) =>
        new Promise<boolean>((resolve) => {
          const first = new Map<string, string>();
          v.ws.addEventListener("message", (e) => {
            const m = JSON.parse(String(e.data));
            if (m.sessionId && !first.has(m.sessionId)) first.set(m.sessionId, m.t);
            if (first.size === perVisitor) resolve([...first.values()].every((t) => t === "answer"));
          });
        }),
    );
    visitors.forEach((v, i) => {
      for (let k = 0; k < perVisitor; k++) {
        const sessionId = `o${i}-${k}`;
        v.send({ t: "offer", podId: "pod-order", sessionId, sdp: "x" });
        v.send({ t: "candidate", sessionId, candidate: cand(1) });
        v.send({ t: "candidate", sessionId, candidate: cand(2) });
      }
    });
    await originDone;
    expect(await Promise.all(visitorOrder)).toEqual(visitors.map(() => true));
    for (;;) {
      const candidates = [...seen.values()].reduce((n, l) => n + l.filter((t) => t === "candidate").length, 0);
      if (candidates === sessions * 2) break;
      await Bun.sleep(20);
    }
    const outOfOrder = [...seen.entries()].filter(([, l]) => l[0] !== "offer");
    expect(outOfOrder).toEqual([]);
    visitors.forEach((v) => v.close());
    origin.close();
  });

  test("Redis down: /health degraded, sessions within a node go on, a register is told to come back (1013); Redis back: routing across nodes again", async () => {
    const local = await registeredOrigin(a.wsUrl, "pod-local");
    await redis.kill();
    await untilHealth(a.url, (h) => h.cluster?.state === "degraded", 3000);
    const visitor = await TestSocket.open(a.wsUrl);
    visitor.send({ t: "offer", podId: "pod-local", sessionId: "d1", sdp: "x" });
    expect(await local.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "d1", sdp: "x" });
    local.send({ t: "answer", sessionId: "d1", sdp: "y" });
    expect(await visitor.next({ t: "answer" })).toEqual({ t: "answer", sessionId: "d1", sdp: "y" });
    // A pod id cannot be claimed safely now: not a refusal (4003) but "try again later".
    const early = await TestSocket.open(a.wsUrl);
    early.send({ t: "register", podId: "pod-early" });
    expect(await early.next({ t: "error" })).toEqual({ t: "error", message: "register failed: try again later" });
    expect((await early.closed).code).toBe(1013);
    await redis.start();
    for (const n of [a, b, c]) await untilHealth(n.url, (h) => h.cluster?.state === "ok" && h.cluster.nodes === 3, 15_000);
    // What A held was announced again: a visitor on C reaches A's origin, and B's new origin is reachable from A.
    const remote = await TestSocket.open(c.wsUrl);
    remote.send({ t: "offer", podId: "pod-local", sessionId: "d2", sdp: "z" });
    expect(await local.next({ t: "offer", sessionId: "d2" })).toEqual({ t: "offer", sessionId: "d2", sdp: "z" });
    const fresh = await registeredOrigin(b.wsUrl, "pod-after");
    visitor.send({ t: "offer", podId: "pod-after", sessionId: "d3", sdp: "w" });
    expect(await fresh.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "d3", sdp: "w" });
    for (const s of [local, visitor, remote, fresh]) s.close();
  }, 30_000);
});
