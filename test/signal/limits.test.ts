import { describe, expect, test } from "bun:test";
import { withServer, type TestServer } from "../helpers/server.ts";
import { offeringVisitor, registeredOrigin, TestSocket } from "../helpers/ws-client.ts";
import { until } from "../helpers/until.ts";

describe("websocket limits", () => {
  test("a message flood gets an error, then close 1008; others are unaffected", () =>
    withServer({ wsMessageRate: 10 }, async (srv) => {
      const origin = await registeredOrigin(srv.wsUrl, "flood-pod");
      const flooder = await TestSocket.open(srv.wsUrl);
      for (let i = 0; i < 100; i++) flooder.send({ t: "candidate", sessionId: "x", candidate: { candidate: "c" } });
      const closed = await flooder.closed;
      expect(closed.code).toBe(1008);
      const visitor = await TestSocket.open(srv.wsUrl);
      visitor.send({ t: "offer", podId: "flood-pod", sessionId: "ok", sdp: "x" });
      expect(await origin.next({ t: "offer" })).toMatchObject({ sessionId: "ok" });
      origin.close();
      visitor.close();
    }));

  test("the rate limit error is sent before the close", () =>
    withServer({ wsMessageRate: 1 }, async (srv) => {
      const s = await TestSocket.open(srv.wsUrl);
      for (let i = 0; i < 5; i++) s.send("{}");
      expect(await s.next((m) => /rate limit/.test(m.message ?? ""))).toMatchObject({ t: "error" });
      expect((await s.closed).code).toBe(1008);
    }));

  test("new connections per address: 429 with Retry-After past the burst", () =>
    withServer({ wsConnectRate: 2 }, async (srv) => {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 8; i++) {
        const res = await fetch(srv.wsUrl.replace(/^ws/, "http"));
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get("retry-after");
          expect((await res.json()).error).toMatch(/too many new connections/);
        } else await res.arrayBuffer();
      }
      expect(statuses.slice(0, 4)).toEqual([426, 426, 426, 426]);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    }));

  test("total connections are capped: 503 past the limit", () =>
    withServer({ maxConnections: 2 }, async (srv) => {
      const a = await TestSocket.open(srv.wsUrl);
      const b = await TestSocket.open(srv.wsUrl);
      const res = await fetch(srv.wsUrl.replace(/^ws/, "http"));
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      await expect(TestSocket.open(srv.wsUrl)).rejects.toThrow();
      a.close();
      // Room again once the broker counted a's close: retry until then.
      let c: TestSocket | undefined;
      await until("a connection slot frees up", async () => !!(c = await TestSocket.open(srv.wsUrl).catch(() => undefined)));
      b.close();
      c!.close();
    }));

  test("sessions per visitor socket are capped", () =>
    withServer({ maxSessionsPerSocket: 2 }, async (srv) => {
      const origin = await registeredOrigin(srv.wsUrl, "cap-socket");
      const visitor = await TestSocket.open(srv.wsUrl);
      for (const id of ["s1", "s2"]) visitor.send({ t: "offer", podId: "cap-socket", sessionId: id, sdp: "x" });
      visitor.send({ t: "offer", podId: "cap-socket", sessionId: "s3", sdp: "x" });
      expect(await visitor.next()).toEqual({ t: "error", sessionId: "s3", message: "too many sessions on this socket (limit 2)" });
      await origin.next({ sessionId: "s1" });
      await origin.next({ sessionId: "s2" });
      // The refused offer would have reached the origin before anything the visitor sends after it.
      visitor.send({ t: "candidate", sessionId: "s2", candidate: { candidate: "marker" } });
      await origin.nothingBefore({ sessionId: "s3" }, { t: "candidate", sessionId: "s2" });
      origin.close();
      visitor.close();
    }));

  test("sessions being negotiated per pod are capped", () =>
    withServer({ maxSessionsPerPod: 2 }, async (srv) => {
      const origin = await registeredOrigin(srv.wsUrl, "cap-pod");
      const visitors = await Promise.all([1, 2, 3].map(() => TestSocket.open(srv.wsUrl)));
      visitors.forEach((v, i) => v.send({ t: "offer", podId: "cap-pod", sessionId: `p${i}`, sdp: "x" }));
      expect(await visitors[2]!.next()).toEqual({ t: "error", sessionId: "p2", message: "pod busy: too many sessions being negotiated" });
      // When one leaves, room opens up.
      visitors[0]!.close();
      await until("the broker frees p0", () => srv.server.sessions() === 1);
      visitors[2]!.send({ t: "offer", podId: "cap-pod", sessionId: "p2", sdp: "x" });
      expect(await origin.next({ sessionId: "p2" })).toMatchObject({ t: "offer" });
      origin.close();
      visitors.forEach((v) => v.close());
    }));

  test("an unanswered session expires and both sides are told; answered ones do not", () =>
    withServer({ sessionAnswerTimeoutMs: 1000 }, async (srv) => {
      const origin = await registeredOrigin(srv.wsUrl, "slow-pod");
      const waiting = await offeringVisitor(srv.wsUrl, origin, "slow-pod", "w1");
      const answered = await offeringVisitor(srv.wsUrl, origin, "slow-pod", "a1");
      origin.send({ t: "answer", sessionId: "a1", sdp: "y" });
      await answered.next({ t: "answer" });
      // A later session on the same socket, left unanswered: its expiry is the marker that
      // a1's deadline (earlier) has passed too.
      answered.send({ t: "offer", podId: "slow-pod", sessionId: "a2", sdp: "x" });
      const message = "session expired: no answer from the origin in time";
      expect(await waiting.next({ t: "error" }, 10_000)).toEqual({ t: "error", sessionId: "w1", message });
      expect(await origin.next({ t: "error", sessionId: "w1" }, 10_000)).toEqual({ t: "error", sessionId: "w1", message });
      expect(await answered.nothingBefore({ t: "error", sessionId: "a1" }, { t: "error", sessionId: "a2" })).toEqual({ t: "error", sessionId: "a2", message });
      expect(srv.server.sessions()).toBe(1);
      // The expired id is freed: a late answer is an unknown session.
      origin.send({ t: "answer", sessionId: "w1", sdp: "late" });
      expect(await origin.next({ t: "error", sessionId: "w1" })).toEqual({ t: "error", sessionId: "w1", message: "unknown session" });
      origin.close();
      waiting.close();
      answered.close();
    }));
});
