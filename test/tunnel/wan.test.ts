// Through an emulated WAN (scripts/bench/wan-link.ts: 40 ms RTT, 1 Gbit/s, in this process):
// the tunnel client reaches the broker over the long link, and random bodies both ways come
// out byte for byte (SHA-256), with the windows growing as they go.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startWanLink, type WanLink } from "../../scripts/bench/wan-link.ts";
import { startTunnel, type TunnelClient } from "../../src/tunnel/client.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { newKey, uniqueName } from "./harness.ts";

const SIZE = 24 * 1024 * 1024;
const body = new Uint8Array(SIZE);
for (let at = 0; at < SIZE; at += 65536) crypto.getRandomValues(body.subarray(at, at + 65536));
const sha = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

let broker: TestServer;
let wan: WanLink;
let local: ReturnType<typeof Bun.serve>;
let client: TunnelClient;
let base: string;

beforeAll(async () => {
  broker = startServer();
  wan = startWanLink({ to: new URL(broker.url).host, rttMs: 40, mbit: 1000 });
  local = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      if (req.method !== "POST") return new Response(body);
      return new Response(sha(new Uint8Array(await req.arrayBuffer())));
    },
  });
  const name = uniqueName("wan");
  client = startTunnel({ server: `http://127.0.0.1:${wan.port}`, name, to: `http://127.0.0.1:${local.port}`, key: await newKey() });
  const dialed = await client.ready;
  // The URL names the host the client dialed (the link); visitors reach the broker itself.
  base = broker.url + new URL(dialed).pathname;
});
afterAll(async () => {
  client?.close();
  wan?.close();
  local?.stop(true);
  await broker?.close();
});

test("downloads through the tunnel over a 40 ms link arrive byte-exact", async () => {
  for (let i = 0; i < 2; i++) {
    const got = new Uint8Array(await (await fetch(`${base}/down`)).arrayBuffer());
    expect(got.byteLength).toBe(SIZE);
    expect(sha(got)).toBe(sha(body));
  }
}, 60_000);

test("uploads through the tunnel over a 40 ms link arrive byte-exact", async () => {
  for (let i = 0; i < 2; i++) {
    const answer = await (await fetch(`${base}/up`, { method: "POST", body })).text();
    expect(answer).toBe(sha(body));
  }
}, 60_000);

test("the link itself is byte-exact both ways (what the benchmark's direct rows use)", async () => {
  const direct = startWanLink({ to: `127.0.0.1:${local.port}`, rttMs: 40, mbit: 1000 });
  try {
    const got = new Uint8Array(await (await fetch(`http://127.0.0.1:${direct.port}/`)).arrayBuffer());
    expect(sha(got)).toBe(sha(body));
    expect(await (await fetch(`http://127.0.0.1:${direct.port}/`, { method: "POST", body })).text()).toBe(sha(body));
  } finally {
    direct.close();
  }
}, 60_000);
