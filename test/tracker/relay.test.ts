// The tracker's wire as WebTorrent and Trystero speak it: announce replies, offers to distinct
// peers, answers to the peer they name, scrape, and peer_ids bound to their socket.
import { beforeAll, expect, test } from "bun:test";
import { startServer, type TestServer } from "../helpers/server.ts";
import { binaryId, joinedPeer, nothingBeforeScrape, offers, trackerForFile, trackerPeer, trackerUrl } from "../helpers/tracker.ts";
import { until } from "../helpers/until.ts";

const tracker = trackerForFile();
let url: string;
beforeAll(() => {
  url = tracker.url();
});

test("an announce is answered with the swarm's counts, the interval and its own binary info_hash", async () => {
  const hash = binaryId();
  const seeder = await joinedPeer(url, hash, { left: 0, event: "started" });
  const leecher = await trackerPeer(url);
  leecher.announce(hash, { event: "started" });
  const reply = await leecher.socket.next({ action: "announce" });
  expect(reply).toEqual({ action: "announce", complete: 1, incomplete: 1, interval: 120, info_hash: hash });
  seeder.socket.close();
  leecher.socket.close();
});

test("each offer goes to a different other peer, and the answer comes back to the offerer", async () => {
  const hash = binaryId();
  const waiting = await Promise.all([1, 2, 3].map(() => joinedPeer(url, hash)));
  const offerer = await trackerPeer(url);
  const sent = offers(3);
  offerer.announce(hash, { offers: sent });
  await offerer.socket.next({ action: "announce", complete: 0, incomplete: 4 });
  const got = await Promise.all(waiting.map((p) => p.socket.next((m) => m.offer !== undefined)));
  expect(new Set(got.map((m) => m.offer_id)).size).toBe(3);
  for (const m of got) {
    expect(m.peer_id).toBe(offerer.peerId);
    expect(m.info_hash).toBe(hash);
    expect(sent.map((o) => o.offer_id)).toContain(m.offer_id);
    expect(m.offer).toEqual({ type: "offer", sdp: "v=0 offer" });
  }
  const answerer = waiting[0]!;
  const offerId = got[0]!.offer_id;
  answerer.announce(hash, { to_peer_id: offerer.peerId, offer_id: offerId, answer: { type: "answer", sdp: "v=0 answer" } });
  const answer = await offerer.socket.next((m) => m.answer !== undefined);
  expect(answer).toEqual({ action: "announce", answer: { type: "answer", sdp: "v=0 answer" }, offer_id: offerId, peer_id: answerer.peerId, info_hash: hash });
  // No reply to an answer (as the reference), and nothing to the others.
  await nothingBeforeScrape(answerer.socket, { action: "announce", info_hash: hash });
  await nothingBeforeScrape(waiting[1]!.socket, (m) => m.answer !== undefined);
  for (const p of [...waiting, offerer]) p.socket.close();
});

test("more offers than other peers: one each, never one to itself", async () => {
  const hash = binaryId();
  const other = await joinedPeer(url, hash);
  const offerer = await trackerPeer(url);
  offerer.announce(hash, { offers: offers(5) });
  await other.socket.next((m) => m.offer !== undefined);
  await nothingBeforeScrape(other.socket, (m) => m.offer !== undefined);
  await nothingBeforeScrape(offerer.socket, (m) => m.offer !== undefined);
  other.socket.close();
  offerer.socket.close();
});

test("Trystero's announces (no left, uploaded, downloaded or event) and its look-only `offers: []`", async () => {
  const hash = binaryId();
  const hexId = () => Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => b.toString(16).padStart(2, "0")).join("");
  const a = await trackerPeer(url, hexId());
  a.socket.send({ action: "announce", info_hash: hash, peer_id: a.peerId, numwant: 3, offers: offers(3) });
  expect(await a.socket.next({ action: "announce" })).toMatchObject({ complete: 0, incomplete: 1 });
  const b = await trackerPeer(url, hexId());
  b.socket.send({ action: "announce", info_hash: hash, peer_id: b.peerId, left: 0, numwant: 3, offers: [] });
  expect(await b.socket.next({ action: "announce" })).toMatchObject({ complete: 1, incomplete: 1 });
  a.socket.send({ action: "announce", info_hash: hash, peer_id: a.peerId, numwant: 3, offers: offers(3) });
  const offer = await b.socket.next((m) => m.offer !== undefined);
  expect(offer.peer_id).toBe(a.peerId);
  a.socket.close();
  b.socket.close();
});

test("scrape answers for the hashes named, one or an array; there is no scrape-all", async () => {
  const hash = binaryId();
  const empty = binaryId();
  const seeder = await joinedPeer(url, hash, { left: 0 });
  const leecher = await joinedPeer(url, hash);
  const client = await trackerPeer(url);
  client.socket.send({ action: "scrape", info_hash: hash });
  expect(await client.socket.next({ action: "scrape" })).toEqual({ action: "scrape", files: { [hash]: { complete: 1, incomplete: 1, downloaded: 1 } }, flags: { min_request_interval: 600 } });
  client.socket.send({ action: "scrape", info_hash: [hash, empty] });
  const both = await client.socket.next({ action: "scrape" });
  expect(both.files[empty]).toEqual({ complete: 0, incomplete: 0, downloaded: 0 });
  expect(both.files[hash].complete).toBe(1);
  client.socket.send({ action: "scrape" });
  expect(await client.socket.next({ action: "scrape" })).toEqual({ action: "scrape", "failure reason": "scrape needs info_hash (one or an array)" });
  for (const p of [seeder, leecher, client]) p.socket.close();
});

test("a spoofed stopped evicts nobody; another socket's offer or answer in a peer's name is refused", async () => {
  const hash = binaryId();
  const victim = await joinedPeer(url, hash);
  const attacker = await trackerPeer(url, victim.peerId);
  attacker.announce(hash, { event: "stopped" });
  expect(await attacker.socket.next({ action: "announce" })).toEqual({ action: "announce", "failure reason": "peer_id belongs to another connection", info_hash: hash });
  attacker.announce(hash, { offers: offers(1) });
  await attacker.socket.next((m) => m["failure reason"] !== undefined);
  attacker.announce(hash, { to_peer_id: binaryId(), offer_id: binaryId(), answer: { type: "answer", sdp: "x" } });
  await attacker.socket.next((m) => m["failure reason"] !== undefined);
  // The victim is still in the swarm: a newcomer's offer reaches it.
  const newcomer = await trackerPeer(url);
  newcomer.announce(hash, { offers: offers(1) });
  expect(await newcomer.socket.next({ action: "announce" })).toMatchObject({ incomplete: 2 });
  expect((await victim.socket.next((m) => m.offer !== undefined)).peer_id).toBe(newcomer.peerId);
  // Its own stopped does remove it.
  victim.announce(hash, { event: "stopped" });
  expect(await victim.socket.next({ action: "announce" })).toMatchObject({ incomplete: 1 });
  for (const p of [victim, attacker, newcomer]) p.socket.close();
});

test("a peer_id is free again once its socket closed", async () => {
  const hash = binaryId();
  const first = await joinedPeer(url, hash);
  first.socket.close();
  await first.socket.closed;
  const again = await trackerPeer(url, first.peerId);
  for (let i = 0; ; i++) {
    again.announce(hash);
    const reply = await again.socket.next({ action: "announce" });
    if (reply["failure reason"] === undefined) break;
    if (i > 20) throw new Error("the peer_id stayed taken");
    await Bun.sleep(20);
  }
  again.socket.close();
});

test("swarms are freed when their last peer leaves", async () => {
  const other = startServer();
  try {
    const hash = binaryId();
    const a = await joinedPeer(trackerUrl(other), hash);
    const b = await joinedPeer(trackerUrl(other), binaryId());
    expect(await trackerCounts(other)).toEqual({ swarms: 2, peers: 2 });
    a.announce(hash, { event: "stopped" });
    await a.socket.next({ action: "announce" });
    expect(await trackerCounts(other)).toEqual({ swarms: 1, peers: 1 });
    b.socket.close();
    await until("the server hears b close", async () => (await trackerCounts(other)).peers === 0);
    expect(await trackerCounts(other)).toEqual({ swarms: 0, peers: 0 });
    a.socket.close();
  } finally {
    await other.close();
  }
});

async function trackerCounts(s: TestServer): Promise<{ swarms: number; peers: number }> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1]);
  return { swarms: read("gemmapod_signal_tracker_swarms"), peers: read("gemmapod_signal_tracker_peers") };
}
