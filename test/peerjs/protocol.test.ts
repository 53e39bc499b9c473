// The PeerJS wire as `peer` 1.0 speaks it, message by message: admission in the
// reference's order with its exact strings, forwarding with `src` set by us,
// the offline queue and EXPIRE, HEARTBEAT liveness, re-attach, and the HTTP side.
import { describe, expect, test } from "bun:test";
import { parseArgs } from "../../src/config.ts";
import { Logger } from "../../src/log/logger.ts";
import { openPeer, peerjsUrl } from "../helpers/peerjs.ts";
import { startServer, withServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/ws-client.ts";
import { scrape, value } from "../helpers/metrics.ts";
import { until } from "../helpers/until.ts";

const closedWithin = async (s: TestSocket, ms = 2000) => Promise.race([s.closed, Bun.sleep(ms).then(() => null)]);

describe("HTTP", () => {
  test("the description, fresh ids and the peers list, open to any origin", () =>
    withServer({}, async (srv) => {
      for (const path of ["/peerjs", "/peerjs/"]) {
        const res = await fetch(`${srv.url}${path}`);
        expect(res.status).toBe(200);
        expect(res.headers.get("access-control-allow-origin")).toBe("*");
        expect((await res.json()).name).toBe("gemmapod-signal");
      }
      const ids = await Promise.all([1, 2].map(() => fetch(`${srv.url}/peerjs/peerjs/id?ts=1&version=1.5.5`)));
      for (const res of ids) expect(res.headers.get("access-control-allow-origin")).toBe("*");
      const [a, b] = await Promise.all(ids.map((r) => r.text()));
      expect(a).toMatch(/^[0-9a-f-]{36}$/);
      expect(a).not.toBe(b);
      const preflight = await fetch(`${srv.url}/peerjs/peerjs/id`, { method: "OPTIONS", headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET" } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
      expect((await fetch(`${srv.url}/peerjs/peerjs/peers`)).status).toBe(401);
      expect((await fetch(`${srv.url}/peerjs/peerjs`)).status).toBe(426);
    }));

  test("--peerjs-discovery lists the ids held here", () =>
    withServer({ peerjsDiscovery: true }, async (srv) => {
      const a = await openPeer(srv.url, "alice");
      const res = await fetch(`${srv.url}/peerjs/peerjs/peers`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(["alice"]);
      a.close();
    }));

  test("--peerjs-path moves it; off removes it", async () => {
    await withServer({ peerjsPath: "/p2p/pj" }, async (srv) => {
      expect((await fetch(`${srv.url}/p2p/pj/peerjs/id`)).status).toBe(200);
      (await openPeer(srv.url, "moved", "t", "/p2p/pj")).close();
      expect((await fetch(`${srv.url}/peerjs/peerjs/id`)).status).not.toBe(200);
    });
    await withServer({ peerjsPath: "off" }, async (srv) => {
      expect((await fetch(`${srv.url}/peerjs/peerjs/id`)).status).not.toBe(200);
      expect((await fetch(`${srv.url}/peerjs`)).status).not.toBe(200);
    });
  });
});

test("flags: --peerjs-path takes a path under the root or off; --peerjs-key a short name", () => {
  const config = (...argv: string[]) => {
    const c = parseArgs(argv, {});
    if (c.kind !== "serve") throw new Error(c.kind);
    return c.config;
  };
  expect(config().peerjsPath).toBe("/peerjs");
  expect(config("--peerjs-path", "/p2p/pj/").peerjsPath).toBe("/p2p/pj");
  expect(config("--peerjs-path", "off").peerjsPath).toBe("off");
  expect(config("--peerjs-discovery").peerjsDiscovery).toBe(true);
  expect(() => config("--peerjs-path", "/")).toThrow("under the root");
  expect(() => config("--peerjs-path", "peerjs")).toThrow("under the root");
  expect(() => config("--peerjs-key", "a b")).toThrow();
  expect(config().peerjsMaxPeers).toBeGreaterThan(5000);
});

describe("admission, in the reference's order", () => {
  test("no id, token or key; a wrong key; an invalid id: ERROR with the reference's words, then close", () =>
    withServer({}, async (srv) => {
      const cases: [Record<string, string>, string][] = [
        [{ key: "peerjs", token: "t" }, "No id, token, or key supplied to websocket server"],
        [{ key: "peerjs", id: "a" }, "No id, token, or key supplied to websocket server"],
        [{ id: "a", token: "t" }, "No id, token, or key supplied to websocket server"],
        [{ key: "nope", id: "a" }, "No id, token, or key supplied to websocket server"],
        [{ key: "nope", id: "a", token: "t" }, "Invalid key provided"],
        [{ key: "peerjs", id: "a\u0001b", token: "t" }, "ID must be 1-256 printable characters"],
        [{ key: "peerjs", id: "x".repeat(300), token: "t" }, "ID must be 1-256 printable characters"],
      ];
      for (const [query, msg] of cases) {
        const s = await TestSocket.open(peerjsUrl(srv.url, query));
        expect(await s.next()).toEqual({ type: "ERROR", payload: { msg } });
        expect(await closedWithin(s)).not.toBeNull();
      }
    }));

  test("an id live with another token: ID-TAKEN, then close; the holder is untouched", () =>
    withServer({}, async (srv) => {
      const holder = await openPeer(srv.url, "taken", "secret-1");
      const thief = await TestSocket.open(peerjsUrl(srv.url, { key: "peerjs", id: "taken", token: "secret-2" }));
      expect(await thief.next()).toEqual({ type: "ID-TAKEN", payload: { msg: "ID is taken" } });
      expect(await closedWithin(thief)).not.toBeNull();
      const other = await openPeer(srv.url, "other");
      other.send({ type: "OFFER", dst: "taken", payload: { sdp: "x" } });
      expect(await holder.next()).toEqual({ type: "OFFER", src: "other", dst: "taken", payload: { sdp: "x" } });
    }));

  test("re-attach with the same id and token: OPEN at once, the stale socket is closed and gets nothing more (peerjs#1289)", () =>
    withServer({}, async (srv) => {
      const stale = await openPeer(srv.url, "phoenix", "same-token");
      const fresh = await openPeer(srv.url, "phoenix", "same-token");
      expect((await closedWithin(stale))?.code).toBe(4001);
      const other = await openPeer(srv.url, "caller");
      other.send({ type: "CANDIDATE", dst: "phoenix", payload: { c: 1 } });
      expect(await fresh.next()).toEqual({ type: "CANDIDATE", src: "caller", dst: "phoenix", payload: { c: 1 } });
    }));

  test("over --peerjs-max-peers: the reference's limit error; a re-attach still passes", () =>
    withServer({ peerjsMaxPeers: 2 }, async (srv) => {
      await openPeer(srv.url, "p1", "t1");
      await openPeer(srv.url, "p2", "t2");
      const third = await TestSocket.open(peerjsUrl(srv.url, { key: "peerjs", id: "p3", token: "t3" }));
      expect(await third.next()).toEqual({ type: "ERROR", payload: { msg: "Server has reached its concurrent user limit" } });
      await openPeer(srv.url, "p1", "t1");
    }));

  test("messages sent before OPEN are handled after it", () =>
    withServer({}, async (srv) => {
      const b = await openPeer(srv.url, "early-b");
      const a = new TestSocket(peerjsUrl(srv.url, { key: "peerjs", id: "early-a", token: "t" }));
      await a.opened;
      a.send({ type: "OFFER", dst: "early-b", payload: { n: 1 } });
      expect(await a.next()).toEqual({ type: "OPEN" });
      expect(await b.next()).toEqual({ type: "OFFER", src: "early-a", dst: "early-b", payload: { n: 1 } });
    }));

  test("tokens are never logged", async () => {
    const lines: string[] = [];
    const logger = new Logger({ level: "debug", format: "json", write: (l) => lines.push(l) });
    await withServer({ logger, logLevel: "debug" }, async (srv) => {
      await openPeer(srv.url, "logged", "SECRET-TOKEN-1");
      const t = await TestSocket.open(peerjsUrl(srv.url, { key: "peerjs", id: "logged", token: "SECRET-TOKEN-2" }));
      await t.next();
    });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("")).not.toContain("SECRET-TOKEN");
  });
});

describe("forwarding", () => {
  test("OFFER, ANSWER, CANDIDATE, LEAVE and EXPIRE go to dst as {type, src, dst, payload}, src set by the server", () =>
    withServer({}, async (srv) => {
      const a = await openPeer(srv.url, "fa");
      const b = await openPeer(srv.url, "fb");
      for (const type of ["OFFER", "ANSWER", "CANDIDATE", "LEAVE", "EXPIRE"]) {
        a.send({ type, dst: "fb", src: "forged", payload: { type: "data", connectionId: "dc_1", sdp: { sdp: "v=0", type: "offer" } }, extra: 1 });
        expect(await b.next()).toEqual({ type, src: "fa", dst: "fb", payload: { type: "data", connectionId: "dc_1", sdp: { sdp: "v=0", type: "offer" } } });
      }
      b.send({ type: "ANSWER", dst: "fa" });
      expect(await a.next()).toEqual({ type: "ANSWER", src: "fb", dst: "fa" });
      // HEARTBEAT and unknown types go nowhere and are no error.
      a.send({ type: "HEARTBEAT" });
      a.send({ type: "SOMETHING-NEW", dst: "fb" });
      // Markers sent after them: the first thing each side hears next is the other's message.
      a.send({ type: "OFFER", dst: "fb", payload: "marker" });
      expect(await b.next()).toEqual({ type: "OFFER", src: "fa", dst: "fb", payload: "marker" });
      b.send({ type: "ANSWER", dst: "fa", payload: "marker" });
      expect(await a.next()).toEqual({ type: "ANSWER", src: "fb", dst: "fa", payload: "marker" });
    }));

  test("an offline id: its messages wait and come after its OPEN; past the expire time the sender hears EXPIRE once", () =>
    withServer({ peerjsExpireTimeoutMs: 400 }, async (srv) => {
      const a = await openPeer(srv.url, "qa");
      a.send({ type: "OFFER", dst: "late", payload: { n: 1 } });
      a.send({ type: "CANDIDATE", dst: "late", payload: { n: 2 } });
      a.send({ type: "LEAVE", dst: "late" }); // not held, as the reference
      await until("the two are held", async () => value(await scrape(srv.url), "gemmapod_signal_peerjs_held_messages") === 2);
      const late = await openPeer(srv.url, "late");
      expect(await late.next()).toEqual({ type: "OFFER", src: "qa", dst: "late", payload: { n: 1 } });
      expect(await late.next()).toEqual({ type: "CANDIDATE", src: "qa", dst: "late", payload: { n: 2 } });
      a.send({ type: "OFFER", dst: "late", payload: { n: 3 } });
      expect(await late.next()).toEqual({ type: "OFFER", src: "qa", dst: "late", payload: { n: 3 } }); // no LEAVE before it
      a.send({ type: "OFFER", dst: "nobody", payload: {} });
      a.send({ type: "CANDIDATE", dst: "nobody", payload: {} });
      const started = performance.now();
      expect(await a.next()).toEqual({ type: "EXPIRE", src: "nobody", dst: "qa" });
      expect(performance.now() - started).toBeGreaterThan(300);
      // Once: a wait set up after this one ends after it, and its EXPIRE is the next one.
      a.send({ type: "OFFER", dst: "nobody-after", payload: {} });
      await a.nothingBefore({ type: "EXPIRE", src: "nobody" }, { type: "EXPIRE", src: "nobody-after" });
    }));

  test("the queue is bounded per id: past it the sender hears EXPIRE at once, and what was held still arrives", () =>
    withServer({ peerjsQueueMessages: 3, peerjsExpireTimeoutMs: 2000 }, async (srv) => {
      const a = await openPeer(srv.url, "qfa");
      for (let n = 0; n < 5; n++) a.send({ type: "CANDIDATE", dst: "full", payload: { n } });
      // At once: were it the 2 s expiry, what was held would be gone before "full" opens.
      expect(await a.next({ type: "EXPIRE" }, 10_000)).toEqual({ type: "EXPIRE", src: "full", dst: "qfa" });
      const full = await openPeer(srv.url, "full");
      for (let n = 0; n < 3; n++) expect((await full.next()).payload).toEqual({ n });
      a.send({ type: "CANDIDATE", dst: "full", payload: { n: "marker" } });
      expect((await full.next()).payload).toEqual({ n: "marker" }); // nothing past the bound came before it
    }));
});

test("in all, what waits is bounded by --peerjs-queue-bytes: past it each sender hears EXPIRE at once and no wait is set up", () =>
  withServer({ peerjsQueueBytes: 64 * 1024, peerjsMessageRate: 1_000_000 }, async (srv) => {
    const a = await openPeer(srv.url, "qt");
    const big = "x".repeat(10_000);
    for (let i = 0; i < 20; i++) a.send({ type: "OFFER", dst: `absent-${i}`, payload: big });
    // Each costs its ~10 KB of text and 256 bytes more: 6 fit in 64 KiB, 14 are told now.
    const told = new Set<string>();
    // At once: well before the 5 s expiry of the 6 held.
    for (let i = 0; i < 14; i++) told.add((await a.next({ type: "EXPIRE" }, 4000)).src);
    expect(told.size).toBe(14);
    // One more is told at once too; no other EXPIRE came before it.
    a.send({ type: "OFFER", dst: "absent-marker", payload: big });
    await a.nothingBefore({ type: "EXPIRE" }, { type: "EXPIRE", src: "absent-marker" }, 4000);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toContain("gemmapod_signal_peerjs_held_messages 6");
    expect(metrics).toContain('gemmapod_signal_peerjs_expired_total{reason="queue-full"} 15'); // the 14 and the marker
  }));

describe("liveness", () => {
  test("no HEARTBEAT within the alive timeout: closed and the id freed; HEARTBEATs keep it", () =>
    withServer({ peerjsAliveTimeoutMs: 400 }, async (srv) => {
      const quiet = await openPeer(srv.url, "quiet", "t1");
      const chatty = await openPeer(srv.url, "chatty", "t2");
      const beat = setInterval(() => chatty.send({ type: "HEARTBEAT" }), 100);
      try {
        expect((await closedWithin(quiet, 1500))?.code).toBe(4000);
        await openPeer(srv.url, "quiet", "another-token");
        const thief = await TestSocket.open(peerjsUrl(srv.url, { key: "peerjs", id: "chatty", token: "t3" }));
        expect((await thief.next()).type).toBe("ID-TAKEN");
      } finally {
        clearInterval(beat);
      }
    }));

  test("LEAVE without dst gives the id up; a closed socket's id is free at once", () =>
    withServer({}, async (srv) => {
      const a = await openPeer(srv.url, "leaver", "t1");
      a.send({ type: "LEAVE" });
      await closedWithin(a);
      const b = await openPeer(srv.url, "leaver", "t2");
      b.close();
      await closedWithin(b);
      await Bun.sleep(50);
      (await openPeer(srv.url, "leaver", "t3")).close();
    }));
});

describe("metrics", () => {
  test("messages by type, refusals by reason, ids held", () =>
    withServer({}, async (srv) => {
      const a = await openPeer(srv.url, "ma");
      await openPeer(srv.url, "mb");
      a.send({ type: "OFFER", dst: "mb", payload: {} });
      a.send({ type: "HEARTBEAT" });
      const t = await TestSocket.open(peerjsUrl(srv.url, { key: "peerjs", id: "ma", token: "x" }));
      await t.next();
      await Bun.sleep(50);
      const text = await (await fetch(`${srv.url}/metrics`)).text();
      expect(text).toContain('gemmapod_signal_peerjs_messages_total{type="OFFER"} 1');
      expect(text).toContain('gemmapod_signal_peerjs_messages_total{type="HEARTBEAT"} 1');
      expect(text).toContain('gemmapod_signal_peerjs_refused_total{reason="id-taken"} 1');
      expect(text).toContain("gemmapod_signal_peerjs_ids 2");
      expect(text).toContain('gemmapod_signal_connections{kind="peerjs"}');
    }));
});
