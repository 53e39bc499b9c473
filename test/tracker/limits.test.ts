// Each limit twice: a flood is stopped, and real use passes on the default flags.
import { expect, test } from "bun:test";
import { startServer, withServer } from "../helpers/server.ts";
import { binaryId, joinedPeer, nothingBeforeScrape, offers, trackerPeer, trackerUrl } from "../helpers/tracker.ts";
import { TestSocket, type Json } from "../helpers/ws-client.ts";

const isFailure = (m: Json) => m["failure reason"] !== undefined;

/** Sends `n` frames and collects the `n` replies. */
async function replies(socket: TestSocket, frames: Json[]): Promise<Json[]> {
  for (const f of frames) socket.send(f);
  const out: Json[] = [];
  for (let i = 0; i < frames.length; i++) out.push(await socket.next(() => true, 5000));
  return out;
}

test("a socket flooding one swarm is refused past its budget, and the swarm still works", async () => {
  await withServer({}, async (srv) => {
    const hash = binaryId();
    const flooder = await trackerPeer(trackerUrl(srv));
    const got = await replies(flooder.socket, Array.from({ length: 300 }, () => ({ action: "announce", info_hash: hash, peer_id: flooder.peerId, offers: offers(1) })));
    const refused = got.filter(isFailure);
    expect(refused.length).toBeGreaterThan(200);
    expect(refused[0]).toEqual({ action: "announce", "failure reason": "too many requests: slow down", info_hash: hash });
    const other = await joinedPeer(trackerUrl(srv), hash);
    expect(other.socket).toBeDefined();
    flooder.socket.close();
    other.socket.close();
  });
});

test("a socket that sends only junk or frames past its budget is closed (1008) after 1,000 refusals in a row", async () => {
  await withServer({}, async (srv) => {
    const junk = await trackerPeer(trackerUrl(srv));
    for (let i = 0; i < 1100; i++) junk.socket.send(i % 2 ? "{not json" : '{"action":"announce"}');
    expect(await junk.socket.closed).toEqual({ code: 1008, reason: "too many refused requests" });
    // A refusal between accepted frames starts the count again: the 300-frame flood above stays open.
    const hash = binaryId();
    const other = await joinedPeer(trackerUrl(srv), hash);
    expect(other.socket.ws.readyState).toBe(WebSocket.OPEN);
    other.socket.close();
  });
});

test("real use on the defaults: a seeder entering 300 swarms at once, and a peer answering 100 offers", async () => {
  // The tracker's defaults; the 100 newcomers stand for 100 browsers, each from its own
  // address: from one loopback address they would meet the per-address connect limit
  // (burst 100) whenever the machine is quick, which is that limit's test, not this one.
  await withServer({ wsConnectRate: 1_000_000 }, async (srv) => {
    const url = trackerUrl(srv);
    const seeder = await trackerPeer(url);
    const hashes = Array.from({ length: 300 }, binaryId);
    const got = await replies(seeder.socket, hashes.map((h) => ({ action: "announce", info_hash: h, peer_id: seeder.peerId, left: 0, event: "started", offers: offers(5) })));
    expect(got.filter(isFailure)).toEqual([]);
    // Trystero's rhythm in one of them: re-announces at +0.2, +0.5, +1.3 s (here at once).
    const again = await replies(seeder.socket, [0, 1, 2].map(() => ({ action: "announce", info_hash: hashes[0], peer_id: seeder.peerId, numwant: 3, offers: offers(3) })));
    expect(again.filter(isFailure)).toEqual([]);
    // A peer in one swarm gets 100 offers, one by one from newcomers; it answers every one
    // (each offer earns the answer it is owed, past the swarm's own share).
    const hash = binaryId();
    const answerer = await joinedPeer(url, hash);
    const newcomers = [];
    for (let i = 0; i < 100; i++) {
      const n = await trackerPeer(url);
      n.announce(hash, { offers: offers(1) });
      await n.socket.next({ action: "announce" });
      n.socket.send({ action: "announce", info_hash: hash, peer_id: n.peerId, event: "stopped" });
      await n.socket.next({ action: "announce" });
      newcomers.push(n);
    }
    const answers = [];
    for (let i = 0; i < 100; i++) {
      const offer = await answerer.socket.next((m) => m.offer !== undefined);
      answers.push({ action: "announce", info_hash: hash, peer_id: answerer.peerId, to_peer_id: offer.peer_id, offer_id: offer.offer_id, answer: { type: "answer", sdp: "a" } });
    }
    for (const a of answers) answerer.socket.send(a);
    await Promise.all(newcomers.map((n) => n.socket.next((m) => m.answer !== undefined)));
    await nothingBeforeScrape(answerer.socket, isFailure);
    answerer.socket.close();
    for (const n of newcomers) n.socket.close();
    seeder.socket.close();
  });
}, 20_000);

test("swarms per socket are capped", async () => {
  await withServer({ trackerMaxSwarmsPerSocket: 3 }, async (srv) => {
    const p = await trackerPeer(trackerUrl(srv));
    const got = await replies(p.socket, [1, 2, 3, 4].map(() => ({ action: "announce", info_hash: binaryId(), peer_id: p.peerId })));
    expect(got.slice(0, 3).filter(isFailure)).toEqual([]);
    expect(got[3]!["failure reason"]).toBe("in too many swarms (at most 3 per connection)");
    p.socket.close();
  });
});

test("peer_ids per socket are capped", async () => {
  await withServer({}, async (srv) => {
    const socket = await TestSocket.open(trackerUrl(srv));
    const got = await replies(socket, Array.from({ length: 17 }, () => ({ action: "announce", info_hash: binaryId(), peer_id: binaryId() })));
    expect(got.slice(0, 16).filter(isFailure)).toEqual([]);
    expect(got[16]!["failure reason"]).toBe("at most 16 peer_ids per connection");
    socket.close();
  });
});

test("a full swarm drops its least recently seen peer", async () => {
  await withServer({ trackerMaxPeers: 3 }, async (srv) => {
    const url = trackerUrl(srv);
    const hash = binaryId();
    const [oldest, ...rest] = [await joinedPeer(url, hash), await joinedPeer(url, hash), await joinedPeer(url, hash)];
    const newcomer = await joinedPeer(url, hash);
    const scraper = await TestSocket.open(url);
    scraper.send({ action: "scrape", info_hash: hash });
    expect((await scraper.next()).files[hash]).toMatchObject({ incomplete: 3 });
    const offerer = await trackerPeer(url);
    offerer.announce(hash, { offers: offers(5) });
    await Promise.all([...rest, newcomer].map((p) => p.socket.next((m) => m.offer !== undefined)));
    await nothingBeforeScrape(oldest!.socket, (m) => m.offer !== undefined);
    for (const p of [oldest!, ...rest, newcomer, offerer]) p.socket.close();
    scraper.close();
  });
});

test("a peer unseen past --tracker-peer-ttl leaves, and its swarm is freed", async () => {
  await withServer({ trackerPeerTtlMs: 1000 }, async (srv) => {
    const hash = binaryId();
    const quiet = await joinedPeer(trackerUrl(srv), hash);
    const scraper = await TestSocket.open(trackerUrl(srv));
    await Bun.sleep(1600);
    scraper.send({ action: "scrape", info_hash: hash });
    expect((await scraper.next()).files[hash]).toEqual({ complete: 0, incomplete: 0, downloaded: 0 });
    // It comes back by announcing again.
    quiet.announce(hash);
    expect(await quiet.socket.next({ action: "announce" })).toMatchObject({ incomplete: 1 });
    quiet.socket.close();
    scraper.close();
  });
});

test("--tracker-path moves the tracker, off removes it", async () => {
  await withServer({ trackerPath: "/tr" }, async (srv) => {
    const p = await joinedPeer(trackerUrl(srv, "/tr"), binaryId());
    p.socket.close();
    expect((await fetch(`${srv.url}/tr`)).status).toBe(426);
  });
  const off = startServer({ trackerPath: null });
  try {
    const socket = new WebSocket(trackerUrl(off));
    const outcome = await new Promise((resolve) => {
      socket.onopen = () => resolve("open");
      socket.onerror = () => resolve("refused");
    });
    expect(outcome).toBe("refused");
  } finally {
    await off.close();
  }
});
