// A streaming client that spends every sliver of credit it gets, as gemmapod-signal's own
// client did before the sender's rule: it relays a real local server's body, each read sent
// at once in as much as its credit allows. On the default flags a long fast download through
// it still passes: the broker grants no slivers, and big frames pay for the remainders.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { newKey, RawTunnelSocket, uniqueName } from "./harness.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { encodeFrame, FRAME, MAX_CHUNK_BYTES } from "../../src/tunnel/protocol.ts";
import { digest, randomStream, type Digest } from "../helpers/random-body.ts";

const PIECES = 6400; // 400 MiB in 64 KiB writes
let srv: TestServer;
let local: Server<unknown>;
let sent: Promise<Digest>;
beforeAll(() => {
  srv = startServer();
  local = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch() {
      const body = randomStream(PIECES, 64 * 1024);
      sent = body.sent;
      return new Response(body.stream);
    },
  });
});
afterAll(() => {
  local?.stop(true);
  return srv?.close();
});

test("a client that sends whatever credit it has serves a 400 MiB download on the default flags", async () => {
  const socket = await RawTunnelSocket.open(srv.url);
  await socket.signIn(await newKey(), new URL(srv.url).host);
  const name = uniqueName("naive");
  socket.send({ type: "register", stream: true, name });
  const { window } = await socket.next((m) => m.type === "registered");
  let credit = window as number;
  let wake: (() => void) | undefined;
  socket.ws.addEventListener("message", (e) => {
    if (typeof e.data !== "string") return;
    const m = JSON.parse(e.data);
    if (m.type === "credit") (credit += m.bytes), wake?.();
  });
  const received = fetch(`${srv.url}/tunnel/${name}/big`).then((res) => digest(res.body!));
  const { id } = await socket.next((m) => m.type === "request");
  socket.send({ type: "head", id, status: 200, headers: {} });
  const body = (await fetch(`http://127.0.0.1:${local.port}/`)).body!;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    for (let at = 0; at < chunk.byteLength; ) {
      while (credit <= 0) await new Promise<void>((r) => (wake = r));
      const n = Math.min(credit, MAX_CHUNK_BYTES, chunk.byteLength - at);
      socket.send(encodeFrame(FRAME.body, id, chunk.subarray(at, at + n)));
      credit -= n;
      at += n;
    }
  }
  socket.send({ type: "end", id });
  expect(await received).toEqual(await sent);
  expect((await sent).bytes).toBe(PIECES * 64 * 1024);
  expect(socket.ws.readyState).toBe(WebSocket.OPEN);
  socket.ws.close();
}, 60_000);
