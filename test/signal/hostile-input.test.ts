import { afterAll, beforeAll, expect, test } from "bun:test";
import { startServer, type TestServer } from "../helpers/server.ts";
import { registeredOrigin, TestSocket } from "../helpers/ws-client.ts";

let srv: TestServer;
const LIMIT = 4096;
beforeAll(() => {
  srv = startServer({ maxMessageBytes: LIMIT });
});
afterAll(() => srv.close());

const cases: [string, string | Uint8Array, string][] = [
  ["invalid JSON", "{not json", "invalid json"],
  ["null", "null", "message must be a JSON object"],
  ["an array", "[1,2]", "message must be a JSON object"],
  ["a number", "42", "message must be a JSON object"],
  ["a string", '"hello"', "message must be a JSON object"],
  ["no t", "{}", "message needs a string field t"],
  ["t not a string", '{"t":5}', "t must be a string"],
  ["unknown t", '{"t":"subscribe"}', 'unknown message type "subscribe"'],
  ["register without podId", '{"t":"register"}', "register needs a podId string"],
  ["register with numeric podId", '{"t":"register","podId":7}', "register needs a podId string"],
  ["register with empty podId", '{"t":"register","podId":""}', "register needs a podId string"],
  ["register with object ownerToken", '{"t":"register","podId":"p","ownerToken":{}}', "ownerToken must be a string"],
  ["offer without sdp", '{"t":"offer","podId":"p","sessionId":"s"}', "offer needs an sdp string"],
  ["offer with sdp object", '{"t":"offer","podId":"p","sessionId":"s","sdp":{}}', "offer needs an sdp string"],
  ["offer without sessionId", '{"t":"offer","podId":"p","sdp":"x"}', "offer needs a sessionId string"],
  ["offer with huge sessionId", JSON.stringify({ t: "offer", podId: "p", sessionId: "x".repeat(300), sdp: "x" }), "offer needs a sessionId string"],
  ["offer without podId", '{"t":"offer","sessionId":"s","sdp":"x"}', "offer needs a podId string"],
  ["answer without sdp", '{"t":"answer","sessionId":"s"}', "answer needs an sdp string"],
  ["candidate as a string", '{"t":"candidate","sessionId":"s","candidate":"c"}', "candidate needs a candidate object with a candidate string"],
  ["candidate with bad sdpMLineIndex", '{"t":"candidate","sessionId":"s","candidate":{"candidate":"c","sdpMLineIndex":"0"}}', "candidate needs a candidate object with a candidate string"],
  ["error without message", '{"t":"error","sessionId":"s"}', "error needs a message string"],
  ["binary frame", new Uint8Array([123, 125]), "binary frames are not supported; send JSON text"],
  ["an oversize frame", JSON.stringify({ t: "offer", podId: "p", sessionId: "s", sdp: "x".repeat(LIMIT) }), `message too large (limit ${LIMIT} bytes)`],
  ["an oversize frame of multi-byte text", JSON.stringify({ t: "offer", podId: "p", sessionId: "s", sdp: "é".repeat(LIMIT / 2 + 10) }), `message too large (limit ${LIMIT} bytes)`],
];

test.each(cases)("%s gets a clear error and the socket stays usable", async (_name, frame, message) => {
  const socket = await TestSocket.open(srv.wsUrl);
  socket.send(frame);
  const reply = await socket.next();
  expect(reply.t).toBe("error");
  expect(reply.message).toBe(message);
  // Still usable afterwards.
  socket.send({ t: "register", podId: `after-${crypto.randomUUID()}` });
  expect(await socket.next()).toMatchObject({ t: "registered" });
  socket.close();
});

test("a frame far over the limit is cut off without being buffered, and the server lives on", async () => {
  const socket = await TestSocket.open(srv.wsUrl);
  socket.send("x".repeat(LIMIT * 4));
  const { code } = await socket.closed;
  expect(code).toBe(1009);
  expect((await fetch(`${srv.url}/health`)).status).toBe(200);
});

test("a barrage of junk from one client does not disturb another client's session", async () => {
  const origin = await registeredOrigin(srv.wsUrl, "steady");
  const visitor = await TestSocket.open(srv.wsUrl);
  const attacker = await TestSocket.open(srv.wsUrl);
  const junk = ["null", "[]", "{", '{"t":"answer","sessionId":"v1","sdp":"evil"}', '{"t":"candidate","sessionId":"v1","candidate":{"candidate":"x"}}', '{"t":"error","sessionId":"v1","message":"die"}', "\u0000\uffff", '{"t":"offer","podId":"steady","sessionId":"v1","sdp":"hijack"}'];
  visitor.send({ t: "offer", podId: "steady", sessionId: "v1", sdp: "real" });
  expect(await origin.next({ t: "offer" })).toMatchObject({ sdp: "real" });
  for (let i = 0; i < 500; i++) attacker.send(junk[i % junk.length]!);
  // The broker has dealt with all of it once the attacker hears about a last message (or is cut off).
  attacker.send({ t: "answer", sessionId: "marker", sdp: "x" });
  await Promise.race([attacker.closed, attacker.next({ sessionId: "marker" })]);
  origin.send({ t: "answer", sessionId: "v1", sdp: "real-answer" });
  expect(await visitor.nothingBefore({ t: "error" }, { t: "answer" })).toMatchObject({ sdp: "real-answer" });
  visitor.send({ t: "candidate", sessionId: "v1", candidate: { candidate: "marker" } });
  await origin.nothingBefore((m) => m.t === "offer" || m.sessionId === "v1", { t: "candidate" });
  origin.close();
  visitor.close();
  attacker.close();
});

test("GET /signal without an upgrade is a JSON 426", async () => {
  const res = await fetch(`${srv.url}/signal`);
  expect(res.status).toBe(426);
  expect(await res.json()).toEqual({ error: "WS /signal expects a websocket upgrade" });
});
