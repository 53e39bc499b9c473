// Replays exactly what GemmaPod Host 0.6 (ws library, Origin header, Chrome UA,
// register on open, no ownerToken) and the browser shim (offer with podId, queued
// candidates flushed after the offer, candidates with podId) put on the wire.
import { afterAll, beforeAll, expect, test } from "bun:test";
import WS from "ws";
import { startServer, type TestServer } from "../helpers/server.ts";
import { TestSocket, type Json } from "../helpers/ws-client.ts";
import { until } from "../helpers/until.ts";

let srv: TestServer;
beforeAll(() => {
  srv = startServer();
});
afterAll(() => srv.close());

const CHROME_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

function hostOrigin(url: string, podId: string): Promise<{ ws: WS; inbox: Json[]; next: (t: string) => Promise<Json> }> {
  return new Promise((resolve, reject) => {
    const ws = new WS(url, { headers: { Origin: srv.url, "User-Agent": CHROME_UA } });
    const inbox: Json[] = [];
    const waiting: ((m: Json) => void)[] = [];
    ws.on("message", (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.t === "challenge") return; // Host 0.6 ignores message types it does not know
      const w = waiting.shift();
      w ? w(m) : inbox.push(m);
    });
    const next = (t: string) =>
      new Promise<Json>((res, rej) => {
        const i = inbox.findIndex((m) => m.t === t);
        if (i !== -1) return res(inbox.splice(i, 1)[0]!);
        const timer = setTimeout(() => rej(new Error(`host got no ${t}`)), 3000);
        waiting.push((m) => (clearTimeout(timer), m.t === t ? res(m) : rej(new Error(`host got ${JSON.stringify(m)}`))));
      });
    ws.on("open", () => {
      ws.send(JSON.stringify({ t: "register", podId }));
      resolve({ ws, inbox, next });
    });
    ws.on("error", reject);
  });
}

test("a Host 0.6 origin and a shim visitor negotiate through the broker", async () => {
  const host = await hostOrigin(srv.wsUrl, "my-agent");
  expect(await host.next("registered")).toEqual({ t: "registered", podId: "my-agent" });

  const sessionId = crypto.randomUUID();
  const visitor = await TestSocket.open(srv.wsUrl);
  const visitorCandidates = [1, 2, 3].map((n) => ({ candidate: `candidate:${n} 1 udp 1 192.0.2.1 ${5000 + n} typ host`, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "abcd" }));
  // The shim sends the offer, then flushes candidates gathered meanwhile (with podId).
  visitor.send({ t: "offer", podId: "my-agent", sessionId, sdp: "v=0 offer" });
  for (const candidate of visitorCandidates) visitor.send({ t: "candidate", podId: "my-agent", sessionId, candidate });

  expect(await host.next("offer")).toEqual({ t: "offer", sessionId, sdp: "v=0 offer" });
  for (const candidate of visitorCandidates) expect(await host.next("candidate")).toEqual({ t: "candidate", sessionId, candidate });

  // The Host answers and trickles its own candidates without podId.
  host.ws.send(JSON.stringify({ t: "answer", sessionId, sdp: "v=0 answer" }));
  const hostCandidate = { candidate: "candidate:9 1 udp 1 192.0.2.9 6000 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "wxyz" };
  host.ws.send(JSON.stringify({ t: "candidate", sessionId, candidate: hostCandidate }));
  expect(await visitor.next({ t: "answer" })).toEqual({ t: "answer", sessionId, sdp: "v=0 answer" });
  expect(await visitor.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId, candidate: hostCandidate });

  // Data channel open: the shim closes its signaling socket. The Host is untouched.
  visitor.close();
  await until("the broker frees the session", () => srv.server.sessions() === 0);
  expect(host.ws.readyState).toBe(WS.OPEN);
  expect(host.inbox.filter((m) => m.t === "error")).toEqual([]);

  // The Host reconnects (new socket, same pod) after a drop: the old one is replaced.
  const closed = new Promise<number>((r) => host.ws.on("close", (code) => r(code)));
  const again = await hostOrigin(srv.wsUrl, "my-agent");
  expect(await again.next("registered")).toEqual({ t: "registered", podId: "my-agent" });
  expect(await closed).toBe(4001);
  again.ws.close();
});

test("a Host's failure answer reaches the visitor as an error", async () => {
  const host = await hostOrigin(srv.wsUrl, "failing-agent");
  await host.next("registered");
  const visitor = await TestSocket.open(srv.wsUrl);
  visitor.send({ t: "offer", podId: "failing-agent", sessionId: "f1", sdp: "v=0" });
  await host.next("offer");
  host.ws.send(JSON.stringify({ t: "error", sessionId: "f1", message: "createAnswer failed" }));
  expect(await visitor.next()).toEqual({ t: "error", sessionId: "f1", message: "createAnswer failed" });
  host.ws.close();
  visitor.close();
});
