// Relaying by key, and hostile frames, over real sockets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { enterRoom, newKey, type TestPeer } from "../helpers/peers.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let srv: TestServer;
let a: TestPeer;
let b: TestPeer;
beforeAll(async () => {
  srv = startServer();
  a = await enterRoom(srv, "relay");
  b = await enterRoom(srv, "relay");
  await a.socket.next({ type: "peer-joined" });
});
afterAll(() => srv.close());

const SDP = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\n";
const candidate = { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "abcd" };

describe("relay by key", () => {
  test("offer, answer, candidate and hangup arrive with from set by the server", async () => {
    a.socket.send({ type: "offer", to: b.key.id, sdp: SDP });
    expect(await b.socket.next()).toEqual({ type: "offer", from: a.key.id, sdp: SDP });
    b.socket.send({ type: "answer", to: a.key.id, sdp: "v=0 answer" });
    expect(await a.socket.next()).toEqual({ type: "answer", from: b.key.id, sdp: "v=0 answer" });
    a.socket.send({ type: "candidate", to: b.key.id, candidate });
    expect(await b.socket.next()).toEqual({ type: "candidate", from: a.key.id, candidate });
    b.socket.send({ type: "hangup", to: a.key.id });
    expect(await a.socket.next()).toEqual({ type: "hangup", from: b.key.id });
  });

  test("a spoofed from is overwritten, to and extra fields are dropped, keys in any case", async () => {
    a.socket.send({ type: "offer", to: b.key.id.toUpperCase(), from: "f".repeat(64), sdp: "v=0", admin: true, webId: "x" });
    expect(await b.socket.next()).toEqual({ type: "offer", from: a.key.id, sdp: "v=0" });
    a.socket.send({ from: "f".repeat(64), type: "answer", sdp: "v=0", to: b.key.id });
    expect(await b.socket.next()).toEqual({ type: "answer", from: a.key.id, sdp: "v=0" });
    // The fast path keeps the SDP text only for the exact shape; a duplicate key is rebuilt.
    a.socket.send(`{"type":"offer","to":"${b.key.id}","sdp":"v=0 \\"quoted\\"","sdp":"second"}`);
    expect(await b.socket.next()).toEqual({ type: "offer", from: a.key.id, sdp: "second" });
    a.socket.send({ type: "candidate", to: b.key.id, candidate: { ...candidate, evil: "<script>" }, extra: 1 });
    expect(await b.socket.next()).toEqual({ type: "candidate", from: a.key.id, candidate });
    a.socket.send({ type: "hangup", to: b.key.id, sdp: "ignored", reason: "x" });
    expect(await b.socket.next()).toEqual({ type: "hangup", from: a.key.id });
  });

  test("a key that is not in the room: peer not online", async () => {
    const stranger = (await newKey()).id;
    a.socket.send({ type: "offer", to: stranger, sdp: "v=0" });
    expect(await a.socket.next()).toEqual({ type: "error", message: "peer not online", peer: stranger });
    // In another room is not in this one.
    const elsewhere = await enterRoom(srv, "relay-elsewhere");
    a.socket.send({ type: "candidate", to: elsewhere.key.id, candidate });
    expect(await a.socket.next()).toEqual({ type: "error", message: "peer not online", peer: elsewhere.key.id });
    // Anything relayed to it went out before a's error; its own request's answer comes after.
    elsewhere.socket.send({ type: "ice-servers" });
    await elsewhere.socket.nothingBefore(() => true, { type: "ice-servers" });
    elsewhere.socket.close();
  });

  test("hostile frames each get an error naming the problem, and the session goes on", async () => {
    const to = b.key.id;
    const cases: [string | Uint8Array, string][] = [
      ["null", "message must be a JSON object"],
      ["[1,2]", "message must be a JSON object"],
      ["42", "message must be a JSON object"],
      ['"text"', "message must be a JSON object"],
      ["{not json", "invalid json"],
      ["{}", "message needs a string field type"],
      ['{"type":7}', "type must be a string"],
      ['{"type":"subscribe"}', 'unknown message type "subscribe"'],
      [JSON.stringify({ type: "offer", sdp: "v=0" }), "offer needs to: the addressed peer's public key (64 hex characters)"],
      [JSON.stringify({ type: "offer", to: 42, sdp: "v=0" }), "offer needs to: the addressed peer's public key (64 hex characters)"],
      [JSON.stringify({ type: "offer", to: "peer-1", sdp: "v=0" }), "offer needs to: the addressed peer's public key (64 hex characters)"],
      [JSON.stringify({ type: "offer", to }), "offer needs an sdp string"],
      [JSON.stringify({ type: "answer", to, sdp: { x: 1 } }), "answer needs an sdp string"],
      [JSON.stringify({ type: "candidate", to }), "candidate needs a candidate object with a candidate string"],
      [JSON.stringify({ type: "candidate", to, candidate: "candidate:1" }), "candidate needs a candidate object with a candidate string"],
      [JSON.stringify({ type: "candidate", to, candidate: { candidate: "c", sdpMLineIndex: "0" } }), "candidate needs a candidate object with a candidate string"],
      [JSON.stringify({ type: "hangup", to: null }), "hangup needs to: the addressed peer's public key (64 hex characters)"],
      [JSON.stringify({ type: "offer", to, sdp: "x".repeat(70 * 1024) }), "message too large (limit 65536 bytes)"],
      [new Uint8Array([1, 2, 3]), "binary frames are not supported; send JSON text"],
    ];
    for (const [frame, message] of cases) {
      a.socket.send(frame);
      expect(await a.socket.next(), String(frame).slice(0, 60)).toEqual({ type: "error", message });
    }
    // The first thing b hears is this offer: none of the hostile frames reached it.
    a.socket.send({ type: "offer", to, sdp: "still here" });
    expect(await b.socket.next()).toEqual({ type: "offer", from: a.key.id, sdp: "still here" });
  });

  test("ice-servers on request (none configured here)", async () => {
    a.socket.send({ type: "ice-servers" });
    expect(await a.socket.next()).toEqual({ type: "ice-servers", iceServers: [] });
  });
});

describe("relayed text", () => {
  test("kept text only for the exact shape; anything else is rebuilt with only the checked members", async () => {
    const to = b.key.id;
    const c = JSON.stringify(candidate);
    const cases: [string, Record<string, unknown>][] = [
      [`{"type":"candidate","to":"${to}","candidate":${c}}`, { type: "candidate", from: a.key.id, candidate }],
      [`{"type":"candidate","to":"${"0".repeat(64)}","candidate":{"candidate":"x}","sdpMid":"0"},"to":"${to}"}`, { type: "candidate", from: a.key.id, candidate: { candidate: "x}", sdpMid: "0" } }],
      [`{"type":"candidate","to":"${to}","candidate":{"candidate":"x","evil":"}"}}`, { type: "candidate", from: a.key.id, candidate: { candidate: "x" } }],
      [`{"type":"candidate","to":"${to}","candidate":{"candidate":"x"},"extra":{}}`, { type: "candidate", from: a.key.id, candidate: { candidate: "x" } }],
      [`{"type":"offer","to":"${to}","sdp":"a}","sdp2":"b"}`, { type: "offer", from: a.key.id, sdp: "a}" }],
    ];
    for (const [frame, expected] of cases) {
      a.socket.send(frame);
      const got = await b.socket.next();
      expect(got, frame).toEqual(expected);
    }
  });
});

test("a frame over twice the limit is cut off by the websocket layer (1009); the room goes on", async () => {
  const big = await enterRoom(srv, "relay");
  await a.socket.next({ type: "peer-joined", peer: big.key.id });
  big.socket.send({ type: "offer", to: a.key.id, sdp: "x".repeat(200 * 1024) });
  expect((await big.socket.closed).code).toBe(1009);
  expect(await a.socket.next({ type: "peer-left" })).toMatchObject({ peer: big.key.id });
  b.socket.send({ type: "answer", to: a.key.id, sdp: "after" });
  expect(await a.socket.next({ type: "answer" })).toEqual({ type: "answer", from: b.key.id, sdp: "after" });
});
