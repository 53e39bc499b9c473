// The per-activity message budget of /.webrtc sockets: floods are cut off, a busy
// peer connecting a whole room is not, on default flags.
import { describe, expect, test } from "bun:test";
import { MessageBudget } from "../../src/peers/message-budget.ts";
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { enterRoom, newKey } from "../helpers/peers.ts";
import { withServer } from "../helpers/server.ts";

const policy = { baseRate: 50, partnerRate: 20, maxPartners: 1000, partnerWindowMs: 30_000 };
const candidate = { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0 };

describe("MessageBudget", () => {
  test("a flat burst of twice the base rate, then nothing until it refills", () => {
    const budget = new MessageBudget(policy);
    let taken = 0;
    while (budget.take() && taken < 10_000) taken++;
    expect(taken).toBe(100);
  });

  test("each new partner brings its own burst and raises the rate; repeats and strangers do not", () => {
    const budget = new MessageBudget(policy);
    for (let i = 0; i < 100; i++) budget.take();
    budget.negotiating("a");
    budget.negotiating("a");
    expect(budget.partnerCount()).toBe(1);
    expect(budget.rate()).toBe(70);
    let taken = 0;
    while (budget.take() && taken < 10_000) taken++;
    expect(taken).toBe(40);
    budget.ended("a");
    expect(budget.rate()).toBe(50);
  });

  test("a peer that was not there gives its burst back", () => {
    const budget = new MessageBudget(policy);
    for (let i = 0; i < 100; i++) budget.take();
    budget.negotiating("ghost");
    budget.notThere("ghost");
    expect(budget.take()).toBe(false);
  });

  test("partners are bounded and forgotten after the window", () => {
    const budget = new MessageBudget({ ...policy, maxPartners: 3, partnerWindowMs: 0 });
    for (const p of ["a", "b", "c", "d"]) budget.negotiating(p, performance.now() - 1);
    expect(budget.partnerCount()).toBe(3);
    while (budget.take());
    expect(budget.partnerCount()).toBe(0);
  });
});

describe("on default flags", () => {
  test("a flood of candidates to one peer: error, then 1008, and the other peer is fine", async () => {
    await withServer({}, async (srv) => {
      const a = await enterRoom(srv, "flood");
      const b = await enterRoom(srv, "flood");
      a.socket.send({ type: "offer", to: b.key.id, sdp: "v=0" });
      for (let i = 0; i < 2000; i++) a.socket.send({ type: "candidate", to: b.key.id, candidate });
      expect(await a.socket.next({ type: "error" })).toMatchObject({ message: expect.stringContaining("rate limit exceeded") });
      expect((await a.socket.closed).code).toBe(1008);
      // a's leaving reaches b after everything relayed from a: count what came before it.
      expect(await b.socket.next({ type: "peer-left" })).toMatchObject({ peer: a.key.id });
      expect(b.socket.unread({ type: "candidate" }).length).toBeLessThan(300);
    });
  });

  test("offers to keys that are not there earn no allowance", async () => {
    await withServer({}, async (srv) => {
      const a = await enterRoom(srv, "strangers");
      const strangers = await Promise.all(Array.from({ length: 20 }, newKey));
      for (let round = 0; round < 20; round++) for (const s of strangers) a.socket.send({ type: "offer", to: s.id, sdp: "v=0" });
      expect((await a.socket.closed).code).toBe(1008);
    });
  });

  test("a host connecting 150 peers that arrive at once: every offer and candidate passes", async () => {
    await withServer({ wsConnectRate: 10_000 }, async (srv) => {
      const host = await enterRoom(srv, "busy");
      const guests = await Promise.all(Array.from({ length: 150 }, () => enterRoom(srv, "busy")));
      // As a mesh host does on news of each guest: an offer and its trickled candidates, at once.
      for (const g of guests) {
        host.socket.send({ type: "offer", to: g.key.id, sdp: "v=0 offer" });
        for (let i = 0; i < 8; i++) host.socket.send({ type: "candidate", to: g.key.id, candidate });
      }
      await Promise.all(
        guests.map(async (g) => {
          await g.socket.next({ type: "offer" }, 10_000);
          for (let i = 0; i < 8; i++) await g.socket.next({ type: "candidate" }, 10_000);
          g.socket.send({ type: "answer", to: host.key.id, sdp: "v=0 answer" });
          for (let i = 0; i < 8; i++) g.socket.send({ type: "candidate", to: host.key.id, candidate });
        }),
      );
      for (let i = 0; i < 150; i++) await host.socket.next({ type: "answer" }, 10_000);
      for (const g of guests) host.socket.send({ type: "hangup", to: g.key.id });
      await Promise.all(guests.map((g) => g.socket.next({ type: "hangup" }, 10_000)));
      // The broker answers a request after everything the host sent before it.
      host.socket.send({ type: "ice-servers" });
      await host.socket.nothingBefore({ type: "error" }, { type: "ice-servers" });
      expect(host.socket.ws.readyState).toBe(WebSocket.OPEN);
      for (const p of [host, ...guests]) p.socket.close();
    });
  }, 30_000);

  test("the defaults these tests rely on", () => {
    expect([DEFAULT_CONFIG.peerMessageRate, DEFAULT_CONFIG.peerPartnerRate]).toEqual([policy.baseRate, policy.partnerRate]);
  });
});
