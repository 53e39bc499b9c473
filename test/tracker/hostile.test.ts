// Hostile frames at WS /announce: each gets a `failure reason` in the reference's form, the
// socket stays usable, and the server keeps relaying for everyone else.
import { beforeAll, expect, test } from "bun:test";
import { binaryId, joinedPeer, offers, trackerForFile, trackerPeer } from "../helpers/tracker.ts";
import { TestSocket } from "../helpers/ws-client.ts";

const tracker = trackerForFile();
let url: string;
beforeAll(() => {
  url = tracker.url();
});

const hash = binaryId();
const peer = binaryId();
const announce = (fields: Record<string, unknown>) => JSON.stringify({ action: "announce", info_hash: hash, peer_id: peer, ...fields });

const cases: [string, string | Uint8Array, Record<string, unknown>][] = [
  ["invalid JSON", "{nope", { "failure reason": "invalid json" }],
  ["a JSON array", "[1,2]", { "failure reason": "message must be a JSON object" }],
  ["a binary frame", new Uint8Array([123, 125]), { "failure reason": "expected a JSON text frame" }],
  ["an unknown action", JSON.stringify({ action: "connect" }), { "failure reason": "invalid action in WS request: connect" }],
  ["a short info_hash", JSON.stringify({ action: "announce", info_hash: "abc", peer_id: peer }), { "failure reason": "invalid info_hash" }],
  ["an info_hash past code point 255", JSON.stringify({ action: "announce", info_hash: "€".repeat(20), peer_id: peer }), { "failure reason": "invalid info_hash" }],
  ["a numeric peer_id", JSON.stringify({ action: "announce", info_hash: hash, peer_id: 12345678901234567890 }), { "failure reason": "invalid peer_id" }],
  ["an unknown event", announce({ event: "exploded" }), { action: "announce", "failure reason": "invalid event", info_hash: hash }],
  ["a null offer entry (throws in the reference)", announce({ offers: [null] }), { action: "announce", "failure reason": "each offer must be {offer_id, offer}", info_hash: hash }],
  ["offers that are not an array", announce({ offers: { 0: 1 } }), { action: "announce", "failure reason": "offers must be an array", info_hash: hash }],
  ["an offer without sdp", announce({ offers: [{ offer_id: binaryId(), offer: { type: "offer" } }] }), { action: "announce", "failure reason": 'offer must be {type: "offer", sdp: string}', info_hash: hash }],
  ["an offer with a short offer_id", announce({ offers: [{ offer_id: "x", offer: { type: "offer", sdp: "v=0" } }] }), { action: "announce", "failure reason": "invalid offer_id", info_hash: hash }],
  ["an oversized sdp", announce({ offers: [{ offer_id: binaryId(), offer: { type: "offer", sdp: "x".repeat(17_000) } }] }), { action: "announce", "failure reason": "offer sdp is over 16384 bytes", info_hash: hash }],
  ["too many offers", announce({ offers: offers(11) }), { action: "announce", "failure reason": "too many offers (at most 10)", info_hash: hash }],
  ["an answer without to_peer_id", announce({ answer: { type: "answer", sdp: "v=0" }, offer_id: binaryId() }), { action: "announce", "failure reason": "invalid `to_peer_id` (required with `answer`)", info_hash: hash }],
  ["an answer that is a string", announce({ answer: "v=0", offer_id: binaryId(), to_peer_id: binaryId() }), { action: "announce", "failure reason": "answer must be {type, sdp}", info_hash: hash }],
  ["a scrape of a bad hash", JSON.stringify({ action: "scrape", info_hash: [hash, 7] }), { action: "scrape", "failure reason": "invalid info_hash" }],
  ["a scrape of too many hashes", JSON.stringify({ action: "scrape", info_hash: Array.from({ length: 65 }, binaryId) }), { action: "scrape", "failure reason": "scrape takes 1 to 64 info_hash values" }],
];

test.each(cases)("%s gets a failure reason and the socket stays open", async (_, frame, failure) => {
  const socket = await TestSocket.open(url);
  socket.send(frame);
  expect(await socket.next()).toEqual(failure);
  // Still a working tracker socket.
  socket.send({ action: "scrape", info_hash: hash });
  expect(await socket.next()).toMatchObject({ action: "scrape" });
  socket.close();
});

test("a frame over the size cap closes only its socket (1009)", async () => {
  const socket = await TestSocket.open(url);
  socket.send(JSON.stringify({ action: "announce", pad: "x".repeat(200_000) }));
  expect((await socket.closed).code).toBe(1009);
});

test("after a barrage of bad frames the swarm still relays offers and answers", async () => {
  const h = binaryId();
  const a = await joinedPeer(url, h);
  const bad = await TestSocket.open(url);
  for (let i = 0; i < 200; i++) bad.send(i % 2 ? "{" : JSON.stringify({ action: "announce", info_hash: h, peer_id: a.peerId, event: "stopped" }));
  const b = await trackerPeer(url);
  b.announce(h, { offers: offers(1) });
  const offer = await a.socket.next((m) => m.offer !== undefined);
  a.announce(h, { to_peer_id: b.peerId, offer_id: offer.offer_id, answer: { type: "answer", sdp: "ok" } });
  expect(await b.socket.next((m) => m.answer !== undefined)).toMatchObject({ peer_id: a.peerId, answer: { sdp: "ok" } });
  for (const s of [a.socket, b.socket, bad]) s.close();
});
