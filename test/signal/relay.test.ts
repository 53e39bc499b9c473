import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServer, type TestServer } from "../helpers/server.ts";
import { offeringVisitor, registeredOrigin, TestSocket } from "../helpers/ws-client.ts";
import { until } from "../helpers/until.ts";

let srv: TestServer;
const events: string[] = [];
beforeAll(() => {
  srv = startServer({
    onOriginRegistered: (id) => events.push(`up:${id}`),
    onOriginDisconnected: (id) => events.push(`down:${id}`),
  });
});
afterAll(() => srv.close());

const SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n" + "a=x\r\n".repeat(400);
const cand = (n: number) => ({ candidate: `candidate:${n} 1 udp 2122260223 127.0.0.1 5${n} typ host`, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "u" });

describe("signaling relay", () => {
  test("register is acknowledged and reported in /health and by the handle", async () => {
    const origin = await registeredOrigin(srv.wsUrl, "health-pod");
    const health = await (await fetch(`${srv.url}/health`)).json();
    expect(health).toMatchObject({ ok: true, registry: "memory" });
    expect(health.origins).toContain("health-pod");
    expect(srv.server.origins()).toContain("health-pod");
    expect(events).toContain("up:health-pod");
    origin.close();
    await until("the broker hears the origin leave", () => events.includes("down:health-pod"));
    expect(srv.server.origins()).not.toContain("health-pod");
  });

  test("offer, answer and trickled candidates flow both ways", async () => {
    const origin = await registeredOrigin(srv.wsUrl, "pod-a");
    const visitor = await TestSocket.open(srv.wsUrl);
    visitor.send({ t: "offer", podId: "pod-a", sessionId: "s1", sdp: SDP });
    expect(await origin.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "s1", sdp: SDP });
    expect(srv.server.sessions()).toBe(1);

    visitor.send({ t: "candidate", podId: "pod-a", sessionId: "s1", candidate: cand(1) });
    visitor.send({ t: "candidate", sessionId: "s1", candidate: cand(2) });
    expect(await origin.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "s1", candidate: cand(1) });
    expect(await origin.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "s1", candidate: cand(2) });

    origin.send({ t: "answer", sessionId: "s1", sdp: "answer-sdp" });
    expect(await visitor.next({ t: "answer" })).toEqual({ t: "answer", sessionId: "s1", sdp: "answer-sdp" });
    origin.send({ t: "candidate", sessionId: "s1", candidate: cand(3) });
    expect(await visitor.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "s1", candidate: cand(3) });

    // Errors are relayed both ways.
    origin.send({ t: "error", sessionId: "s1", message: "pc failed" });
    expect(await visitor.next({ t: "error" })).toEqual({ t: "error", sessionId: "s1", message: "pc failed" });
    visitor.send({ t: "error", sessionId: "s1", message: "gave up" });
    expect(await origin.next({ t: "error" })).toEqual({ t: "error", sessionId: "s1", message: "gave up" });

    // Leaving frees the session.
    visitor.close();
    await until("the session is freed", () => srv.server.sessions() === 0);
    origin.close();
  });

  test("extra fields from clients are not relayed", async () => {
    const origin = await registeredOrigin(srv.wsUrl, "pod-extra");
    const visitor = await TestSocket.open(srv.wsUrl);
    visitor.send({ t: "offer", podId: "pod-extra", sessionId: "sx", sdp: "o", junk: 1 });
    expect(await origin.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "sx", sdp: "o" });
    origin.send({ t: "answer", sessionId: "sx", sdp: "a", secret: "x" });
    expect(await visitor.next({ t: "answer" })).toEqual({ t: "answer", sessionId: "sx", sdp: "a" });
    origin.close();
    visitor.close();
  });

  // The broker reuses the sdp's JSON text when it can (see offerText); every way a
  // frame can be written must still reach the origin as exactly {t, sessionId, sdp}.
  test("offers reach the origin as {t, sessionId, sdp} however the frame is written", async () => {
    const origin = await registeredOrigin(srv.wsUrl, "pod-shapes");
    // Two sockets: one may hold at most 8 sessions.
    const visitors = [await TestSocket.open(srv.wsUrl), await TestSocket.open(srv.wsUrl)];
    const sdp = JSON.stringify(SDP);
    const shapes: [string, string][] = [
      ["plain", `{"t":"offer","podId":"pod-shapes","sessionId":"f1","sdp":${sdp}}`],
      ["sdp first", `{"sdp":${sdp},"t":"offer","podId":"pod-shapes","sessionId":"f2"}`],
      ["quotes inside", `{"t":"offer","podId":"pod-shapes","sessionId":"f3","sdp":"a=\\"sdp\\":x\\"}"}`],
      ["spaces", `{ "t": "offer", "podId": "pod-shapes", "sessionId": "f4", "sdp": ${sdp} }`],
      ["duplicate sdp, last wins", `{"t":"offer","podId":"pod-shapes","sessionId":"f5","sdp":"first","sdp":"last"}`],
      ["escaped key, then literal", `{"t":"offer","podId":"pod-shapes","sessionId":"f6","\\u0073dp":"hidden","sdp":"shown"}`],
      ["extra member after", `{"t":"offer","podId":"pod-shapes","sessionId":"f7","sdp":"x","more":"y"}`],
      ["a member named x\"sdp last", `{"t":"offer","podId":"pod-shapes","sessionId":"f9","\\u0073dp":"real","x\\"sdp":"fake"}`],
      ["key-like text in ids", `{"t":"offer","podId":"pod-shapes","sessionId":"f8\\"sdp\\":\\"","sdp":"z"}`],
    ];
    shapes.forEach(([, frame], i) => visitors[i % 2]!.send(frame));
    for (const [name, frame] of shapes) {
      const sent = JSON.parse(frame);
      const got = await origin.next({ sessionId: sent.sessionId });
      expect({ name, got }).toEqual({ name, got: { t: "offer", sessionId: sent.sessionId, sdp: sent.sdp } });
    }
    origin.close();
    visitors.forEach((v) => v.close());
  });

  test("an offer to a pod without origin gets 'origin offline'", async () => {
    const visitor = await TestSocket.open(srv.wsUrl);
    visitor.send({ t: "offer", podId: "nobody-home", sessionId: "s2", sdp: SDP });
    expect(await visitor.next()).toEqual({ t: "error", sessionId: "s2", message: "origin offline" });
    expect(srv.server.sessions()).toBe(0);
    visitor.close();
  });

  test("a second register replaces the origin and closes the old socket with 4001", async () => {
    const first = await registeredOrigin(srv.wsUrl, "pod-r");
    const visitor = await TestSocket.open(srv.wsUrl);
    visitor.send({ t: "offer", podId: "pod-r", sessionId: "s-r", sdp: "x" });
    await first.next({ t: "offer" });
    const second = await registeredOrigin(srv.wsUrl, "pod-r");
    expect(await first.closed).toEqual({ code: 4001, reason: "replaced by new origin" });
    // The pending session was offered to the old origin: its visitor is told to retry.
    expect(await visitor.next({ t: "error" })).toEqual({ t: "error", sessionId: "s-r", message: "origin offline" });
    // The new origin gets new offers; the old one is gone from the pod topic.
    const v2 = await TestSocket.open(srv.wsUrl);
    v2.send({ t: "offer", podId: "pod-r", sessionId: "s-r2", sdp: "y" });
    expect(await second.next({ t: "offer" })).toMatchObject({ sessionId: "s-r2" });
    expect(srv.server.origins().filter((p) => p === "pod-r")).toHaveLength(1);
    second.close();
    visitor.close();
    v2.close();
  });

  test("a socket has one role", async () => {
    const origin = await registeredOrigin(srv.wsUrl, "pod-role");
    origin.send({ t: "register", podId: "other" });
    expect(await origin.next()).toEqual({ t: "error", message: "already initialized" });
    origin.send({ t: "offer", podId: "pod-role", sessionId: "s", sdp: "x" });
    expect(await origin.next()).toEqual({ t: "error", sessionId: "s", message: "wrong role" });

    const visitor = await TestSocket.open(srv.wsUrl);
    visitor.send({ t: "offer", podId: "pod-role", sessionId: "s-role", sdp: "x" });
    await origin.next({ t: "offer" });
    visitor.send({ t: "register", podId: "pod-role" });
    expect(await visitor.next()).toEqual({ t: "error", message: "already initialized" });
    visitor.send({ t: "answer", sessionId: "s-role", sdp: "x" });
    expect(await visitor.next()).toEqual({ t: "error", sessionId: "s-role", message: "wrong role" });
    // The real origin was not displaced.
    expect(srv.server.origins()).toContain("pod-role");
    origin.close();
    visitor.close();
  });

  test("a visitor cannot use a session id another socket opened", async () => {
    const origin = await registeredOrigin(srv.wsUrl, "pod-h");
    const owner = await TestSocket.open(srv.wsUrl);
    owner.send({ t: "offer", podId: "pod-h", sessionId: "taken", sdp: "x" });
    await origin.next({ t: "offer" });

    const thief = await TestSocket.open(srv.wsUrl);
    thief.send({ t: "offer", podId: "pod-h", sessionId: "taken", sdp: "evil" });
    expect(await thief.next()).toEqual({ t: "error", sessionId: "taken", message: "session id already in use" });
    thief.send({ t: "candidate", sessionId: "taken", candidate: cand(9) });
    expect(await thief.next()).toMatchObject({ t: "error", sessionId: "taken" });
    thief.send({ t: "error", sessionId: "taken", message: "x" });
    expect(await thief.next()).toMatchObject({ t: "error", sessionId: "taken" });
    // The thief's own session, opened after: its offer is the marker that all before it was dropped.
    thief.send({ t: "offer", podId: "pod-h", sessionId: "thief-own", sdp: "mine" });
    await origin.nothingBefore(() => true, { t: "offer", sessionId: "thief-own" });

    // The owner's session still works.
    origin.send({ t: "answer", sessionId: "taken", sdp: "a" });
    expect(await owner.next({ t: "answer" })).toMatchObject({ sdp: "a" });
    origin.send({ t: "answer", sessionId: "thief-own", sdp: "b" });
    await thief.nothingBefore({ t: "answer", sessionId: "taken" }, { t: "answer", sessionId: "thief-own" });
    origin.close();
    owner.close();
    thief.close();
  });

  test("pod and session ids with colons cannot reach each other's sessions", async () => {
    // ("a:b", "c") and ("a", "b:c") would meet on a naive "s:<podId>:<sessionId>" topic.
    const target = await registeredOrigin(srv.wsUrl, "colon:b");
    const attacker = await registeredOrigin(srv.wsUrl, "colon");
    const visitor = await TestSocket.open(srv.wsUrl);
    visitor.send({ t: "offer", podId: "colon:b", sessionId: "c", sdp: "x" });
    await target.next({ t: "offer" });
    attacker.send({ t: "answer", sessionId: "b:c", sdp: "hijack" });
    expect(await attacker.next()).toEqual({ t: "error", sessionId: "b:c", message: "unknown session" });
    target.send({ t: "answer", sessionId: "c", sdp: "real" });
    expect(await visitor.nothingBefore(() => true, { t: "answer" })).toMatchObject({ sdp: "real" });
    for (const s of [target, attacker, visitor]) s.close();
  });

  test("an origin can only answer sessions of its own pod", async () => {
    const a = await registeredOrigin(srv.wsUrl, "pod-own-a");
    const b = await registeredOrigin(srv.wsUrl, "pod-own-b");
    const visitor = await TestSocket.open(srv.wsUrl);
    visitor.send({ t: "offer", podId: "pod-own-a", sessionId: "s-own", sdp: "x" });
    await a.next({ t: "offer" });
    // An origin answers on its own pod's session topics: another pod's session is unknown to it
    // (the reference says "session belongs to another pod"; cluster routing has no such lookup).
    b.send({ t: "answer", sessionId: "s-own", sdp: "hijack" });
    expect(await b.next()).toEqual({ t: "error", sessionId: "s-own", message: "unknown session" });
    // Candidates for sessions it cannot reach are dropped quietly, like late trickle.
    b.send({ t: "candidate", sessionId: "s-own", candidate: cand(1) });
    b.send({ t: "answer", sessionId: "no-such", sdp: "x" });
    expect(await b.nothingBefore(() => true, { sessionId: "no-such" })).toEqual({ t: "error", sessionId: "no-such", message: "unknown session" });
    a.send({ t: "answer", sessionId: "s-own", sdp: "real" });
    expect(await visitor.nothingBefore(() => true, { t: "answer" })).toMatchObject({ sdp: "real" });
    a.close();
    b.close();
    visitor.close();
  });

  test("visitors are told when their origin goes away, and state is freed", async () => {
    const origin = await registeredOrigin(srv.wsUrl, "pod-gone");
    const v1 = await offeringVisitor(srv.wsUrl, origin, "pod-gone", "g1");
    const v2 = await offeringVisitor(srv.wsUrl, origin, "pod-gone", "g2");
    const before = srv.server.sessions();
    origin.close();
    expect(await v1.next()).toEqual({ t: "error", sessionId: "g1", message: "origin offline" });
    expect(await v2.next()).toEqual({ t: "error", sessionId: "g2", message: "origin offline" });
    expect(srv.server.sessions()).toBe(before - 2);
    v1.close();
    v2.close();
  });

  // Parsers disagree on duplicate keys (JSON.parse keeps the last, some keep the first).
  test("frames with duplicate keys cannot reach another visitor's session", async () => {
    const origin = await registeredOrigin(srv.wsUrl, "pod-dup");
    const toOrigin: string[] = [];
    origin.ws.addEventListener("message", (e) => toOrigin.push(String(e.data)));
    const mine = await offeringVisitor(srv.wsUrl, origin, "pod-dup", "mine");
    const other = await offeringVisitor(srv.wsUrl, origin, "pod-dup", "other");
    const candidate = JSON.stringify(cand(7));

    // A visitor's frame reaches the origin with the one sessionId the broker checked.
    mine.send(`{"t":"candidate","sessionId":"other","sessionId":"mine","candidate":${candidate}}`);
    expect(await origin.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "mine", candidate: cand(7) });
    expect(toOrigin.at(-1)!.match(/"sessionId"/g)).toHaveLength(1);

    // An origin's frame goes only to the visitor of the session the broker checked.
    origin.send(`{"t":"candidate","sessionId":"other","sessionId":"mine","candidate":${candidate}}`);
    expect(await mine.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "mine", candidate: cand(7) });
    origin.send({ t: "candidate", sessionId: "other", candidate: cand(8) });
    expect(await other.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "other", candidate: cand(8) });
    origin.close();
    mine.close();
    other.close();
  });

  test("a late candidate from the origin after the visitor left is dropped quietly", async () => {
    const origin = await registeredOrigin(srv.wsUrl, "pod-late");
    const visitor = await TestSocket.open(srv.wsUrl);
    visitor.send({ t: "offer", podId: "pod-late", sessionId: "late", sdp: "x" });
    await origin.next({ t: "offer" });
    const before = srv.server.sessions();
    visitor.close();
    await until("the broker hears the visitor leave", () => srv.server.sessions() === before - 1);
    origin.send({ t: "candidate", sessionId: "late", candidate: cand(1) });
    origin.send({ t: "answer", sessionId: "no-such", sdp: "x" });
    await origin.nothingBefore(() => true, { sessionId: "no-such" });
    origin.close();
  });

  test("one visitor socket may hold several sessions", async () => {
    const origin = await registeredOrigin(srv.wsUrl, "pod-multi");
    const visitor = await TestSocket.open(srv.wsUrl);
    visitor.send({ t: "offer", podId: "pod-multi", sessionId: "m1", sdp: "x" });
    visitor.send({ t: "offer", podId: "pod-multi", sessionId: "m2", sdp: "y" });
    await origin.next({ sessionId: "m1" });
    await origin.next({ sessionId: "m2" });
    origin.send({ t: "answer", sessionId: "m2", sdp: "a2" });
    expect(await visitor.next({ t: "answer" })).toMatchObject({ sessionId: "m2", sdp: "a2" });
    origin.close();
    visitor.close();
  });
});
