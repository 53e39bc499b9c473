// A slow visitor reading a 50 MB response: the broker (its own process, so its RSS
// is its own) holds a bounded window per request, not the body. The slow reader
// makes the broker queue several of the client's chunks at once, so the body is
// random and compared by hash: a chunk handed out of order fails here.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { startTunnel, type TunnelClient } from "../../src/tunnel/client.ts";
import { spawnServer, type RunningCli } from "../helpers/cli.ts";
import { newKey, uniqueName } from "./harness.ts";
import { digest, digestOf, randomBytes, type Digest } from "../helpers/random-body.ts";

const SIZE = 50 * 1024 * 1024;
const body = randomBytes(SIZE);
const expected = digestOf(body);

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
      const slow = (async function* () {
        for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
          yield chunk;
          await Bun.sleep(chunk.byteLength / 20_000);
        }
      })();
      return Response.json(await digest(slow));
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

/** Decodes an HTTP/1.1 chunked body as it arrives, handing the data on. */
class Dechunker {
  private buf = Buffer.alloc(0);
  private left = 0;
  private state: "size" | "data" | "crlf" | "done" = "size";
  constructor(private readonly out: (data: Uint8Array) => void) {}
  get done(): boolean {
    return this.state === "done";
  }
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.state === "size") {
        const eol = this.buf.indexOf("\r\n");
        if (eol === -1) return;
        this.left = parseInt(this.buf.subarray(0, eol).toString("latin1"), 16);
        this.buf = this.buf.subarray(eol + 2);
        this.state = this.left === 0 ? "done" : "data";
      } else if (this.state === "data") {
        const n = Math.min(this.left, this.buf.length);
        if (n === 0) return;
        this.out(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
        if ((this.left -= n) === 0) this.state = "crlf";
      } else if (this.state === "crlf") {
        if (this.buf.length < 2) return;
        this.buf = this.buf.subarray(2);
        this.state = "size";
      } else return;
    }
  }
}

/** GET over a raw socket that reads `bytesPerTick` every `tickMs`, so TCP pushes back on the broker; the body's digest. */
function slowGet(target: string, bytesPerTick: number, tickMs: number): Promise<Digest> {
  const { hostname, port, pathname } = new URL(target);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), highWaterMark: 16 * 1024 } as any);
    const hash = new Bun.CryptoHasher("sha256");
    let bytes = 0;
    const take = (data: Uint8Array) => (hash.update(data), (bytes += data.byteLength));
    let body: ((chunk: Buffer) => void) | undefined;
    let head = Buffer.alloc(0);
    let budget = bytesPerTick;
    const timer = setInterval(() => {
      budget = bytesPerTick;
      socket.resume();
    }, tickMs);
    socket.on("data", (chunk: Buffer) => {
      budget -= chunk.length;
      if (budget <= 0) socket.pause();
      if (!body) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        const chunked = /^transfer-encoding:\s*chunked/im.test(head.subarray(0, end).toString("latin1"));
        if (chunked) {
          const dechunker = new Dechunker(take);
          body = (c) => dechunker.push(c);
        } else body = take;
        chunk = head.subarray(end + 4);
      }
      body(chunk);
    });
    socket.on("end", () => (clearInterval(timer), resolve({ bytes, sha256: hash.digest("hex") })));
    socket.on("error", (e) => (clearInterval(timer), reject(e)));
    socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
  });
}

test("a slow visitor reads 50 MB through the tunnel, every byte in order, while the broker's RSS stays bounded", async () => {
  // Warm up: code paths and buffers that exist after the first request are not growth.
  const warm = await fetch(url);
  expect(await digest(warm.body!)).toEqual(expected);
  Bun.gc(true);
  await Bun.sleep(200);
  const baseline = rssOf(broker.proc.pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(broker.proc.pid))), 50);
  // ~20 MB/s: far slower than loopback, so without flow control the broker would hold most of the body.
  const received = await slowGet(url, 512 * 1024, 25);
  clearInterval(sampler);
  expect(received).toEqual(expected);
  const growth = peak - baseline;
  console.log(`broker RSS: baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak growth ${(growth / 2 ** 20).toFixed(1)} MiB for a ${SIZE / 2 ** 20} MiB body`);
  expect(growth).toBeLessThan(20 * 1024 * 1024);
}, 30_000);

test("a 50 MB upload to a slow local server keeps the broker's RSS well under the body", async () => {
  Bun.gc(true);
  const baseline = rssOf(broker.proc.pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(broker.proc.pid))), 50);
  const r = await fetch(`${base}/slow-sink`, { method: "POST", body });
  clearInterval(sampler);
  expect(await r.json()).toEqual(expected);
  const growth = peak - baseline;
  console.log(`broker RSS: peak growth ${(growth / 2 ** 20).toFixed(1)} MiB for a 50 MiB upload`);
  // Bun's own request-body reading churns ~20 MiB for a slow 50 MB upload to a plain
  // Bun.serve; the tunnel must add no buffering of its own on top of that.
  expect(growth).toBeLessThan(36 * 1024 * 1024);
}, 30_000);
