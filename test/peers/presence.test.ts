// Who is in a room, over real sockets: lists, joins and leaves, replacement, isolation, bounds.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openRawWs } from "../../scripts/bench/raw-ws.ts";
import { authStatement } from "../../src/identity/auth-statement.ts";
import { authFrame, enterRoom, newKey, peersUrl } from "../helpers/peers.ts";
import { startServer, withServer, type TestServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/ws-client.ts";
import { until } from "../helpers/until.ts";
import { scrape, value } from "../helpers/metrics.ts";

/** The broker answers a request after all it sent the socket before (the marker for "nothing came"). */
const heardNothing = (p: { socket: TestSocket }, match: Parameters<TestSocket["nothingBefore"]>[0] = () => true) => {
  p.socket.send({ type: "ice-servers" });
  return p.socket.nothingBefore(match, { type: "ice-servers" });
};
/** Polls /metrics until the server counts `n` peers online. */
const peersCounted = (srv: TestServer, n: number) =>
  until(`${n} peers counted`, async () => value(await scrape(srv.url), "gemmapod_signal_peers_online") === n);

let srv: TestServer;
beforeAll(() => (srv = startServer()));
afterAll(() => srv.close());

describe("presence in a room", () => {
  test("the list on entering, then peer-joined and peer-left with webId", async () => {
    const a = await enterRoom(srv, "p1");
    expect(a.entered.peers).toEqual([]);
    const b = await enterRoom(srv, "p1");
    expect(b.entered).toMatchObject({ you: b.key.id, peers: [a.key.id] });
    expect(await a.socket.next()).toEqual({ type: "peer-joined", peer: b.key.id, webId: b.key.id });
    await heardNothing(b, { type: "peer-joined" }); // no news of itself
    b.socket.close();
    expect(await a.socket.next()).toEqual({ type: "peer-left", peer: b.key.id, webId: b.key.id });
    a.socket.close();
  });

  test("rooms are isolated: nobody hears of a room they are not in", async () => {
    const a = await enterRoom(srv, "iso-a");
    const b = await enterRoom(srv, "iso-b");
    expect(b.entered.peers).toEqual([]);
    const a2 = await enterRoom(srv, "iso-a");
    await a.socket.next({ type: "peer-joined" });
    await heardNothing(b);
    // The same key in two rooms is two separate presences.
    const same = await enterRoom(srv, "iso-b", a.key);
    expect(same.entered.peers).toEqual([b.key.id]);
    await heardNothing(a, { type: "peer-left" });
    for (const p of [a, b, a2, same]) p.socket.close();
  });

  test("the room defaults to lobby; a bad room name is a 400 at the upgrade", async () => {
    const lobby = await enterRoom(srv);
    const alsoLobby = await enterRoom(srv, "lobby");
    expect(alsoLobby.entered.peers).toContain(lobby.key.id);
    for (const room of ["", "a b", "x".repeat(65), "ü", "a/b"]) {
      const res = await fetch(`${srv.url}/.webrtc?room=${encodeURIComponent(room)}`, { headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" } });
      expect(res.status, JSON.stringify(room)).toBe(400);
      expect((await res.json()).error).toContain("room");
    }
    expect((await fetch(`${srv.url}/.webrtc?room=a&room=b`)).status).toBe(400);
    expect((await fetch(`${srv.url}/.webrtc?room=ok`)).status).toBe(426);
    lobby.socket.close();
    alsoLobby.socket.close();
  });

  test("a second socket of the same key replaces the first: 4001, then peer-left and peer-joined", async () => {
    const watcher = await enterRoom(srv, "replace");
    const first = await enterRoom(srv, "replace");
    await watcher.socket.next({ type: "peer-joined" });
    const second = await enterRoom(srv, "replace", first.key);
    expect(await first.socket.closed).toEqual({ code: 4001, reason: "replaced" });
    expect(second.entered.peers).toEqual([watcher.key.id]);
    expect(await watcher.socket.next()).toEqual({ type: "peer-left", peer: first.key.id, webId: first.key.id });
    expect(await watcher.socket.next()).toEqual({ type: "peer-joined", peer: first.key.id, webId: first.key.id });
    // Offers now reach the new socket; the old one's close took nothing with it.
    watcher.socket.send({ type: "offer", to: first.key.id, sdp: "v=0 after" });
    expect(await second.socket.next({ type: "offer" })).toEqual({ type: "offer", from: watcher.key.id, sdp: "v=0 after" });
    const late = await enterRoom(srv, "replace");
    expect(late.entered.peers.sort()).toEqual([watcher.key.id, first.key.id].sort());
    for (const p of [watcher, second, late]) p.socket.close();
  });

  test("500 peers entering at once: every peer's final list is everyone else", async () => {
    await withServer({ wsConnectRate: 100_000 }, async (big) => {
      const keys = await Promise.all(Array.from({ length: 500 }, newKey));
      const sockets = await Promise.all(keys.map(() => TestSocket.open(peersUrl(big, "crowd"))));
      const views = sockets.map(() => new Set<string>());
      let news = 0;
      sockets.forEach((s, i) =>
        s.ws.addEventListener("message", (e) => {
          const m = JSON.parse(String(e.data));
          if (m.type === "peers") for (const p of m.peers) views[i]!.add(p);
          else if (m.type === "peer-joined") (views[i]!.add(m.peer), news++);
          else if (m.type === "peer-left") views[i]!.delete(m.peer);
        }),
      );
      await Promise.all(sockets.map(async (s, i) => s.send(await authFrame(s, keys[i]!))));
      const everyone = keys.map((k) => k.id);
      const complete = () => views.every((v) => v.size === 499);
      for (let waited = 0; !complete() && waited < 15_000; waited += 50) await Bun.sleep(50);
      views.forEach((v, i) => expect([...v].sort()).toEqual(everyone.filter((_, j) => j !== i).sort()));
      // Each pair is told once: in a list or as one joined notice, never both.
      expect(news).toBe((500 * 499) / 2);
      for (const s of sockets) s.close();
    });
  }, 30_000);

  test("a full room refuses the next peer with an error and 1008; a free seat lets it in", async () => {
    await withServer({ maxPeersPerRoom: 2 }, async (small) => {
      const a = await enterRoom(small, "small");
      const b = await enterRoom(small, "small");
      await a.socket.next({ type: "peer-joined", peer: b.key.id });
      const key = await newKey();
      const c = await TestSocket.open(peersUrl(small, "small"));
      c.send(await authFrame(c, key));
      expect(await c.next({ type: "error" })).toEqual({ type: "error", message: "room small is full (limit 2 peers)" });
      expect((await c.closed).code).toBe(1008);
      await heardNothing(a, { type: "peer-joined" });
      // Replacing a member is not a new member.
      const b2 = await enterRoom(small, "small", b.key);
      b.socket.close();
      a.socket.close();
      await peersCounted(small, 1);
      const d = await enterRoom(small, "small", key);
      expect(d.entered.peers).toEqual([b2.key.id]);
      b2.socket.close();
      d.socket.close();
    });
  });

  test("one key in too many rooms is refused; leaving one frees it", async () => {
    await withServer({ maxRoomsPerKey: 2 }, async (few) => {
      const key = await newKey();
      const one = await enterRoom(few, "r1", key);
      const two = await enterRoom(few, "r2", key);
      const three = await TestSocket.open(peersUrl(few, "r3"));
      three.send(await authFrame(three, key));
      expect(await three.next({ type: "error" })).toEqual({ type: "error", message: "this key is in too many rooms (limit 2)" });
      expect((await three.closed).code).toBe(1008);
      // Replacing in a room it is in does not count twice.
      const twoAgain = await enterRoom(few, "r2", key);
      one.socket.close();
      await peersCounted(few, 1); // twoAgain (it replaced two)
      const threeNow = await enterRoom(few, "r3", key);
      for (const p of [two, twoAgain, threeNow]) p.socket.close();
    });
  });
});

test("a peer that stops answering pings is dropped, and the room hears it left", async () => {
  await withServer({ wsIdleTimeout: 8 }, async (idle) => {
    const watcher = await enterRoom(idle, "idle");
    const key = await newKey();
    let nonce = "";
    let gotChallenge: () => void = () => {};
    const challenged = new Promise<void>((resolve) => (gotChallenge = resolve));
    const gone = await openRawWs({
      host: "127.0.0.1",
      port: idle.server.port,
      path: "/.webrtc?room=idle",
      ignorePings: true,
      onText: (text) => {
        const m = JSON.parse(text);
        if (m.type === "challenge") (nonce = m.nonce), gotChallenge();
      },
      onClose: () => {},
    });
    await challenged;
    gone.sendText(JSON.stringify({ type: "auth", publicKey: key.id, signature: await key.sign(authStatement(`127.0.0.1:${idle.server.port}`, nonce)) }));
    expect(await watcher.socket.next({ type: "peer-joined" })).toMatchObject({ peer: key.id });
    const started = Date.now();
    expect(await watcher.socket.next({ type: "peer-left" }, 25_000)).toMatchObject({ peer: key.id });
    expect(Date.now() - started).toBeGreaterThan(4000);
    watcher.socket.close();
    gone.destroy();
  });
}, 30_000);
