// A slow visitor reading a 50 MB response: the broker (its own process, so its RSS
// is its own) holds a bounded window per request, not the body.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { startTunnel, type TunnelClient } from "../../src/tunnel/client.ts";
import { spawnServer, type RunningCli } from "../helpers/cli.ts";
import { newKey, uniqueName } from "./harness.ts";

const SIZE = 50 * 1024 * 1024;
const body = new Uint8Array(SIZE).map((_, i) => i % 251);

let broker: RunningCli;
let local: ReturnType<typeof Bun.serve>;
let client: TunnelClient;
let url: string;
let base: string;

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

beforeAll(async () => {
  broker = await spawnServer([]);
  local = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      if (new URL(req.url).pathname !== "/slow-sink") return new Response(body);
      // A slow local server: ~20 MB/s.
      let n = 0;
      for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
        n += chunk.byteLength;
        await Bun.sleep(chunk.byteLength / 20_000);
      }
      return new Response(String(n));
    },
  });
  const name = uniqueName("slow");
  client = startTunnel({ server: broker.url, name, to: `http://127.0.0.1:${local.port}`, key: await newKey() });
  await client.ready;
  base = `${broker.url}/tunnel/${name}`;
  url = `${base}/big`;
});
afterAll(async () => {
  client?.close();
  local?.stop(true);
  await broker?.stop();
});

/** GET over a raw socket that reads `bytesPerTick` every `tickMs`, so TCP pushes back on the broker. */
function slowGet(target: string, bytesPerTick: number, tickMs: number): Promise<{ received: number; checksum: number }> {
  const { hostname, port, pathname } = new URL(target);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), highWaterMark: 16 * 1024 } as any);
    let received = -1;
    let checksum = 0;
    let head = Buffer.alloc(0);
    let budget = bytesPerTick;
    const timer = setInterval(() => {
      budget = bytesPerTick;
      socket.resume();
    }, tickMs);
    socket.on("data", (chunk: Buffer) => {
      if (received < 0) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        chunk = head.subarray(end + 4);
        received = 0;
      }
      // Chunked framing bytes are counted too; the checksum only needs to differ if bytes were lost.
      for (let i = 0; i < chunk.length; i += 4096) checksum = (checksum + chunk[i]!) % 1_000_003;
      received += chunk.length;
      budget -= chunk.length;
      if (budget <= 0) socket.pause();
    });
    socket.on("end", () => (clearInterval(timer), resolve({ received, checksum })));
    socket.on("error", (e) => (clearInterval(timer), reject(e)));
    socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
  });
}

test("a slow visitor reads 50 MB through the tunnel while the broker's RSS stays bounded", async () => {
  // Warm up: code paths and buffers that exist after the first request are not growth.
  const warm = await fetch(url);
  expect((await warm.arrayBuffer()).byteLength).toBe(SIZE);
  Bun.gc(true);
  await Bun.sleep(200);
  const baseline = rssOf(broker.proc.pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(broker.proc.pid))), 50);
  // ~20 MB/s: far slower than loopback, so without flow control the broker would hold most of the body.
  const { received } = await slowGet(url, 512 * 1024, 25);
  clearInterval(sampler);
  expect(received).toBeGreaterThanOrEqual(SIZE);
  const growth = peak - baseline;
  console.log(`broker RSS: baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak growth ${(growth / 2 ** 20).toFixed(1)} MiB for a ${SIZE / 2 ** 20} MiB body`);
  expect(growth).toBeLessThan(20 * 1024 * 1024);
}, 30_000);

test("a 50 MB upload to a slow local server keeps the broker's RSS well under the body", async () => {
  Bun.gc(true);
  const baseline = rssOf(broker.proc.pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(broker.proc.pid))), 50);
  const upload = body.subarray(0, 50 * 1024 * 1024);
  const r = await fetch(`${base}/slow-sink`, { method: "POST", body: upload });
  clearInterval(sampler);
  expect(await r.text()).toBe(String(upload.byteLength));
  const growth = peak - baseline;
  console.log(`broker RSS: peak growth ${(growth / 2 ** 20).toFixed(1)} MiB for a 50 MiB upload`);
  // Bun's own request-body reading churns ~20 MiB for a slow 50 MB upload to a plain
  // Bun.serve; the tunnel must add no buffering of its own on top of that.
  expect(growth).toBeLessThan(36 * 1024 * 1024);
}, 30_000);
