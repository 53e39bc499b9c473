// What fits Bun's frame cap on the default flags (twice --max-message-bytes, at least a
// binary tunnel frame): every frame the streaming tunnel sends, a visitor's messages up to
// 128 KiB, and JSS responses up to what one 128 KiB JSON frame holds. Bigger JSS frames
// close the tunnel socket (1009), as documented; --max-frame-bytes opts in to them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { newKey, RawTunnelSocket, tunnelled, uniqueName } from "./harness.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { MAX_CHUNK_BYTES } from "../../src/tunnel/protocol.ts";
import { MAX_VISITOR_MESSAGE_BYTES } from "../../src/tunnel/http.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let srv: TestServer;
beforeAll(() => (srv = startServer()));
afterAll(() => srv?.close());

async function jssTunnel() {
  const socket = await RawTunnelSocket.open(srv.url);
  await socket.signIn(await newKey(), new URL(srv.url).host);
  const name = uniqueName("jss");
  socket.send({ type: "register", name });
  await socket.next((m) => m.type === "registered");
  return { socket, url: `${srv.url}/tunnel/${name}` };
}

async function jssAnswer(bytes: Uint8Array): Promise<{ status: number; body: Uint8Array; closed: boolean }> {
  const { socket, url } = await jssTunnel();
  const pending = fetch(`${url}/blob`);
  const req = await socket.next((m) => m.type === "request");
  socket.send({ type: "response", id: req.id, status: 200, headers: { "content-type": "application/octet-stream" }, body: Buffer.from(bytes).toString("base64"), bodyEncoding: "base64" });
  const r = await pending;
  const body = new Uint8Array(await r.arrayBuffer());
  const closed = await Promise.race([socket.closed.then(() => true), Bun.sleep(300).then(() => false)]);
  socket.ws.close();
  return { status: r.status, body, closed };
}

test("a JSS response of 95 KiB of binary body (its frame under 128 KiB) arrives whole", async () => {
  const bytes = randomBytes(95 * 1024);
  const { status, body, closed } = await jssAnswer(bytes);
  expect(status).toBe(200);
  expect(sha(body)).toBe(sha(bytes));
  expect(closed).toBe(false);
});

test("a JSS response frame over the cap closes the tunnel socket and the visitor gets 502", async () => {
  const { status, closed } = await jssAnswer(randomBytes(200 * 1024));
  expect(status).toBe(502);
  expect(closed).toBe(true);
});

test("a streaming client's response of exactly one frame's payload (64 KiB) with its length known goes through (one whole frame or head + body)", async () => {
  const bytes = randomBytes(MAX_CHUNK_BYTES);
  const sized = (req: Request) => bytes.subarray(0, Number(new URL(req.url).searchParams.get("size")));
  const t = await tunnelled((req) => new Response(sized(req), { headers: { "content-length": String(sized(req).byteLength), "x-some-header": "v".repeat(200) } }));
  try {
    // Whole frames near the edge: the head counts against the frame too.
    for (const size of [MAX_CHUNK_BYTES, MAX_CHUNK_BYTES - 100, MAX_CHUNK_BYTES - 400, 1000]) {
      const r = await fetch(`${t.url}/x?size=${size}`);
      expect(r.status).toBe(200);
      expect(sha(new Uint8Array(await r.arrayBuffer()))).toBe(sha(bytes.subarray(0, size)));
    }
  } finally {
    await t.close();
  }
});

test("a visitor's websocket message of 128 KiB is carried; one byte more closes 1009", async () => {
  const got: number[] = [];
  const t = await tunnelled((req, s) => (s.upgrade(req) ? undefined : new Response("no", { status: 400 })), {
    websocket: { message: (ws, m) => (got.push(typeof m === "string" ? m.length : m.byteLength), ws.send("ok")) },
  });
  try {
    const open = async () => {
      const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/ws`);
      await new Promise((r, e) => ((ws.onopen = r), (ws.onerror = e)));
      return ws;
    };
    const ws = await open();
    const reply = new Promise((r) => (ws.onmessage = r));
    ws.send(new Uint8Array(MAX_VISITOR_MESSAGE_BYTES));
    await reply;
    expect(got).toEqual([MAX_VISITOR_MESSAGE_BYTES]);
    const big = await open();
    const closed = new Promise<number>((r) => (big.onclose = (e) => r(e.code)));
    big.send(new Uint8Array(MAX_VISITOR_MESSAGE_BYTES + 1));
    expect(await closed).toBe(1009);
    ws.close();
  } finally {
    await t.close();
  }
});
