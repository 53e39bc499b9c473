// The /.tunnel protocol spoken by hand: what a well-behaved, a JSS and a hostile client get.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { newKey, RawTunnelSocket, uniqueName } from "./harness.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import type { OwnerKey } from "../../src/client/origin-auth.ts";
import { encodeFrame, encodeWhole, FRAME } from "../../src/tunnel/protocol.ts";
import * as ed from "@noble/ed25519";
import { randomBytes, sha256 } from "../helpers/random-body.ts";

// The default head and idle timeouts (30 s, 120 s): a loaded machine never trips them, so
// a slow test fails on what it checks. Only `hurried` has a short head timeout, for the
// tests about that timeout (1 s: several times any loopback round trip here).
// Opted in to big frames (--max-frame-bytes), so the broker's own checks past the default cap are seen.
const LIMITS = { tunnelMaxConcurrent: 4, tunnelMaxBodyBytes: 100_000, tunnelMaxPerKey: 2, maxFrameBytes: 16 * 1024 * 1024 };
let srv: TestServer;
let hurried: TestServer;
beforeAll(() => {
  srv = startServer(LIMITS);
  hurried = startServer({ ...LIMITS, tunnelTimeoutMs: 1000 });
});
afterAll(() => Promise.all([srv?.close(), hurried?.close()]));

async function registered(options: { key?: OwnerKey; name?: string; stream?: boolean; server?: TestServer; [k: string]: unknown } = {}) {
  const server = options.server ?? srv;
  const socket = await RawTunnelSocket.open(server.url);
  const key = options.key ?? (await newKey());
  await socket.signIn(key, new URL(server.url).host);
  const name = options.name ?? uniqueName("w");
  socket.send({ type: "register", stream: true, ...options, key: undefined, server: undefined, name });
  const reply = await socket.next((m) => m.type === "registered" || m.type === "error");
  return { socket, key, name, reply, url: `${server.url}/tunnel/${name}` };
}

test("register answers the absolute public URL and the window", async () => {
  const { reply, name, socket } = await registered();
  expect(reply).toEqual({ type: "registered", name, url: `${srv.url}/tunnel/${name}`, window: 512 * 1024 });
  socket.ws.close();
});

test("no response head within --tunnel-timeout is 504, and the client hears cancel", async () => {
  const { socket, url } = await registered({ server: hurried });
  const r = await fetch(`${url}/slow`);
  expect(r.status).toBe(504);
  const req = await socket.next((m) => m.type === "request");
  expect(await socket.next((m) => m.type === "cancel")).toMatchObject({ id: req.id });
  socket.ws.close();
});

test("a client gone mid-request is 502 at once; after the head, the stream is cut", async () => {
  const a = await registered();
  const pending = fetch(`${a.url}/x`);
  await a.socket.next((m) => m.type === "request");
  const t0 = performance.now();
  a.socket.ws.close();
  const r = await pending;
  expect(r.status).toBe(502);
  // At once: not after the 30 s head timeout (which would be a 504 anyway).
  expect(performance.now() - t0).toBeLessThan(10_000);

  const b = await registered();
  const streaming = fetch(`${b.url}/y`);
  const req = await b.socket.next((m) => m.type === "request");
  b.socket.send({ type: "head", id: req.id, status: 200, headers: { "content-type": "text/plain" } });
  b.socket.send(encodeFrame(FRAME.body, req.id, new TextEncoder().encode("partial")));
  const response = await streaming;
  const reader = response.body!.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe("partial");
  b.socket.ws.close();
  await expect(reader.read()).rejects.toBeDefined();
});

test.each([
  ["an invalid status", { status: 99, headers: {} }, "invalid status"],
  ["a status over 599", { status: 600, headers: {} }, "invalid status"],
  ["a header name with a space", { status: 200, headers: { "bad name": "x" } }, "malformed response"],
  ["a header value with CRLF", { status: 200, headers: { "x-a": "1\r\nset-cookie: evil" } }, "malformed response"],
  ["headers that are not an object", { status: 200, headers: [] }, null],
])("%s from the client is a 502 with a clear error", async (_name, head, message) => {
  // A head refused as a frame never came: the head timeout answers, so this one runs on `hurried`.
  const { socket, url } = await registered(message === null ? { server: hurried } : {});
  const pending = fetch(`${url}/`);
  const req = await socket.next((m) => m.type === "request");
  socket.send({ type: "head", id: req.id, ...head });
  if (message === null) {
    expect((await socket.next((m) => m.type === "error")).message).toContain("headers object");
    expect((await pending).status).toBe(504);
  } else {
    const r = await pending;
    expect(r.status).toBe(502);
    expect((await r.json()).error).toContain(message);
  }
  socket.ws.close();
});

test("a whole small response in one frame is answered in one piece; a malformed one is a 502", async () => {
  const { socket, url } = await registered();
  const whole = fetch(`${url}/whole`);
  const req = await socket.next((m) => m.type === "request");
  socket.send(encodeWhole(req.id, { status: 201, headers: { "content-type": "text/plain" } }, new TextEncoder().encode("hello")));
  const r = await whole;
  expect(r.status).toBe(201);
  expect(r.headers.get("content-length")).toBe("5");
  expect(await r.text()).toBe("hello");

  const bad = fetch(`${url}/bad`);
  const req2 = await socket.next((m) => m.type === "request");
  const frame = encodeWhole(req2.id, { status: 200, headers: {} }, new Uint8Array(0));
  new DataView(frame.buffer).setUint32(5, 9999); // a head length past the frame
  socket.send(frame);
  const answer = await bad;
  expect(answer.status).toBe(502);
  expect((await answer.json()).error).toContain("head length out of range");
  socket.ws.close();
});

test("a client cancel is a 502; a visitor going away reaches the client as cancel", async () => {
  const { socket, url } = await registered();
  const pending = fetch(`${url}/c`);
  const req = await socket.next((m) => m.type === "request");
  socket.send({ type: "cancel", id: req.id, message: "local server down" });
  const r = await pending;
  expect(r.status).toBe(502);
  expect((await r.json()).error).toContain("local server down");

  const controller = new AbortController();
  const gone = fetch(`${url}/d`, { signal: controller.signal }).catch(() => null);
  const req2 = await socket.next((m) => m.type === "request");
  controller.abort();
  await gone;
  expect(await socket.next((m) => m.type === "cancel")).toMatchObject({ id: req2.id });
  socket.ws.close();
});

test("a client sending past its window is cut off for that request only", async () => {
  const { socket, url } = await registered();
  const pending = fetch(`${url}/w`);
  const req = await socket.next((m) => m.type === "request");
  socket.send({ type: "head", id: req.id, status: 200, headers: {} });
  const chunk = new Uint8Array(60_000);
  for (let i = 0; i < 200; i++) socket.send(encodeFrame(FRAME.body, req.id, chunk));
  const response = await pending;
  expect((await socket.next((m) => m.type === "cancel")).message).toContain("window");
  await expect(response.arrayBuffer()).rejects.toBeDefined();
  socket.ws.close();
});

test("caps answer 413 and 503 instead of growing memory", async () => {
  const { socket, url } = await registered();
  expect((await fetch(`${url}/`, { method: "POST", body: new Uint8Array(100_001) })).status).toBe(413);
  // A chunked body over the cap, with no length declared.
  const chunked = new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array(60_000)), c.enqueue(new Uint8Array(60_000)), c.close()) });
  const over = fetch(`${url}/`, { method: "POST", body: chunked, duplex: "half" } as RequestInit);
  const req = await socket.next((m) => m.type === "request");
  // Grant credit so the broker reads past the cap.
  socket.send({ type: "credit", id: req.id, bytes: 200_000 });
  expect((await over).status).toBe(413);
  const held = Array.from({ length: 4 }, () => fetch(`${url}/hold`));
  for (let i = 0; i < 4; i++) await socket.next((m) => m.type === "request" && m.path === "/hold");
  const fifth = await fetch(`${url}/hold`);
  expect(fifth.status).toBe(503);
  expect(fifth.headers.get("retry-after")).toBe("1");
  socket.ws.close();
  await Promise.all(held);
});

test("a name belongs to the first key; the same key re-registers and replaces its socket", async () => {
  const first = await registered();
  const other = await registered({ name: first.name });
  expect(other.reply).toMatchObject({ type: "error", message: expect.stringContaining("belongs to another key") });
  const again = await registered({ name: first.name, key: first.key });
  expect(again.reply.type).toBe("registered");
  expect(await first.socket.closed).toMatchObject({ code: 4001 });
  const pending = fetch(`${first.url}/r`);
  const req = await again.socket.next((m) => m.type === "request");
  again.socket.send({ type: "head", id: req.id, status: 200, headers: {} });
  again.socket.send({ type: "end", id: req.id });
  expect((await pending).status).toBe(200);
  for (const s of [other, again]) s.socket.ws.close();
});

test("a key holds a bounded number of names", async () => {
  const key = await newKey();
  const a = await registered({ key });
  const b = await registered({ key });
  const c = await registered({ key });
  expect(c.reply).toMatchObject({ type: "error", message: expect.stringContaining("limit of 2 tunnel names") });
  for (const s of [a, b, c]) s.socket.ws.close();
});

test("JSS framing: text bodies as UTF-8, others as base64, the response likewise; passthrough forwards cookies", async () => {
  const { socket, url } = await registered({ stream: undefined, passthrough: true });
  const pending = fetch(`${url}/jss?q=1`, { method: "POST", body: "héllo", headers: { cookie: "sid=1" } });
  const req = await socket.next((m) => m.type === "request");
  expect(req).toMatchObject({ method: "POST", path: "/jss?q=1", body: "héllo" });
  expect(req.bodyEncoding).toBeUndefined();
  expect(req.headers.cookie).toBe("sid=1");
  const down = randomBytes(70_000);
  socket.send({ type: "response", id: req.id, status: 201, headers: { "content-type": "application/octet-stream", "set-cookie": "a=b" }, body: Buffer.from(down).toString("base64"), bodyEncoding: "base64" });
  const r = await pending;
  expect(r.status).toBe(201);
  expect(r.headers.get("set-cookie")).toBe("a=b");
  expect(sha256(await r.arrayBuffer())).toBe(sha256(down));

  const up = new Uint8Array([0xff, 0xfe, ...randomBytes(60_000)]); // never valid UTF-8: base64
  const binary = fetch(`${url}/bin`, { method: "PUT", body: up });
  const req2 = await socket.next((m) => m.type === "request");
  expect(req2.bodyEncoding).toBe("base64");
  expect(sha256(Buffer.from(req2.body, "base64"))).toBe(sha256(up));
  socket.send({ type: "response", id: req2.id, status: 200, headers: {}, body: "ok" });
  expect(await (await binary).text()).toBe("ok");
  socket.ws.close();
});

test("JSS framing carries a multi-megabyte body inside one JSON frame (with --max-frame-bytes)", async () => {
  const { socket, url } = await registered({ stream: undefined });
  const bytes = randomBytes(6 * 1024 * 1024);
  const pending = fetch(`${url}/big`);
  const req = await socket.next((m) => m.type === "request");
  socket.send({ type: "response", id: req.id, status: 200, headers: { "content-type": "application/octet-stream" }, body: Buffer.from(bytes).toString("base64"), bodyEncoding: "base64" });
  const r = await pending;
  expect(sha256(await r.arrayBuffer())).toBe(sha256(bytes));
  socket.ws.close();
});

test("visitors' per-tunnel basic auth is answered 401 by the broker", async () => {
  const { socket, url } = await registered({ auth: "basic:ann:s3cret" });
  const denied = await fetch(`${url}/`);
  expect(denied.status).toBe(401);
  expect(denied.headers.get("www-authenticate")).toContain("Basic");
  const allowed = fetch(`${url}/`, { headers: { authorization: `Basic ${btoa("ann:s3cret")}` } });
  const req = await socket.next((m) => m.type === "request");
  expect(req.headers.authorization).toBeUndefined();
  socket.send({ type: "head", id: req.id, status: 204, headers: {} });
  socket.send({ type: "end", id: req.id });
  expect((await allowed).status).toBe(204);
  socket.ws.close();
});

test("an allow-list of visitor key prefixes admits proven listed keys only", async () => {
  const visitor = await newKey();
  const { socket, url, name } = await registered({ allowKeys: [visitor.publicKey.slice(0, 8)] });
  const signed = async (key: OwnerKey, path: string) => {
    const seconds = Math.floor(Date.now() / 1000);
    const sig = await ed.signAsync(new TextEncoder().encode(`GET ${path} ${seconds}`), Buffer.from(key.secretKey, "hex"));
    return `GemmaPod-Ed25519 ${key.publicKey}.${seconds}.${Buffer.from(sig).toString("base64url")}`;
  };
  const path = `/tunnel/${name}/private`;
  expect((await fetch(`${url}/private`)).status).toBe(401);
  const stranger = await fetch(`${url}/private`, { headers: { authorization: await signed(await newKey(), path) } });
  expect(stranger.status).toBe(401);
  expect((await stranger.json()).error).toContain("allow-list");
  const header = await signed(visitor, path);
  const admitted = fetch(`${url}/private`, { headers: { authorization: header } });
  const req = await socket.next((m) => m.type === "request");
  socket.send({ type: "head", id: req.id, status: 200, headers: {}, length: 0 });
  socket.send({ type: "end", id: req.id });
  expect((await admitted).status).toBe(200);
  // The same signature does not work twice.
  expect((await fetch(`${url}/private`, { headers: { authorization: header } })).status).toBe(401);
  socket.ws.close();
});

test.each([
  ["bad JSON", "{", "invalid json"],
  ["null", "null", "JSON object"],
  ["an array", "[]", "JSON object"],
  ["an unknown type", '{"type":"explode"}', "unknown message type"],
  ["a register with a bad name", '{"type":"register","name":"UP/../x"}', "register needs a name"],
  ["a frame for no request", '{"type":"end","id":987654}', "no request with id"],
  ["a frame with a string id", '{"type":"end","id":"1"}', "numeric id"],
  ["a short binary frame", new Uint8Array([1, 2]), "5-byte header"],
  ["an oversize binary frame", encodeFrame(FRAME.body, 1, new Uint8Array(200_000)), "binary frame too large"],
  ["an unknown binary kind", new Uint8Array([9, 0, 0, 0, 1, 5]), "unknown binary frame kind"],
  ["an oversize control frame", JSON.stringify({ type: "head", id: 1, status: 200, headers: { x: "y".repeat(70_000) } }), "message too large"],
])("hostile frames are answered with errors and the socket lives on: %s", async (_name, frame, message) => {
  const { socket } = await registered();
  socket.send(frame);
  expect((await socket.next((m) => m.type === "error")).message).toContain(message);
  socket.send('{"type":"end","id":4242424}');
  expect((await socket.next((m) => m.type === "error")).message).toContain("no request");
  socket.ws.close();
});

test("before sign-in everything is refused; a flood of junk closes 1008, a realistic burst passes", async () => {
  const raw = await RawTunnelSocket.open(srv.url);
  await raw.next((m) => m.type === "challenge");
  raw.send({ type: "register", name: "early" });
  expect((await raw.next((m) => m.type === "error")).message).toBe("authenticate first");
  raw.send(encodeFrame(FRAME.body, 1, new Uint8Array(3)));
  expect((await raw.next((m) => m.type === "error")).message).toContain("sign in");
  raw.ws.close();

  const { socket, url } = await registered();
  // Real use: 4 requests (the cap here), each answered with many small chunks.
  const pending = Array.from({ length: 4 }, () => fetch(`${url}/burst`).then((r) => r.text()));
  for (let i = 0; i < 4; i++) {
    const req = await socket.next((m) => m.type === "request");
    socket.send({ type: "head", id: req.id, status: 200, headers: {} });
    for (let c = 0; c < 300; c++) socket.send(encodeFrame(FRAME.body, req.id, new TextEncoder().encode("tok ")));
    socket.send({ type: "end", id: req.id });
  }
  for (const text of await Promise.all(pending)) expect(text).toBe("tok ".repeat(300));
  for (let i = 0; i < 200; i++) socket.send("null");
  expect((await socket.closed).code).toBe(1008);
});
