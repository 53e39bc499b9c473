// Small requests on a tunnel that is also carrying a big download (windows grown, frames queued):
// they are answered while it runs, not after it (no head-of-line blocking behind its body).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { tunnelled, type Tunnelled } from "./harness.ts";

const BIG = 512 * 1024 * 1024;
const piece = crypto.getRandomValues(new Uint8Array(64 * 1024));
let t: Tunnelled;

beforeAll(async () => {
  t = await tunnelled((req) => {
    const path = new URL(req.url).pathname;
    if (path !== "/big") return new Response(`small ${path}`);
    let left = BIG;
    return new Response(new ReadableStream({ pull: (c) => (left > 0 ? (c.enqueue(piece), (left -= piece.byteLength)) : c.close()) }, { highWaterMark: 0 }));
  }, process.env.MAXW ? { broker: { tunnelMaxWindowBytes: Number(process.env.MAXW) } } : {});
});
afterAll(() => t?.close());

test("small requests are answered while a 512 MiB download runs on the same tunnel", async () => {
  let downloaded = 0;
  let finished = false;
  const download = fetch(`${t.url}/big`).then(async (r) => {
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) downloaded += chunk.byteLength;
    finished = true;
  });
  while (downloaded < 16 * 1024 * 1024) await Bun.sleep(5);
  const waits: number[] = [];
  for (let i = 0; i < 100; i++) {
    const started = performance.now();
    const r = await fetch(`${t.url}/s${i}`);
    expect(await r.text()).toBe(`small /s${i}`);
    waits.push(performance.now() - started);
  }
  console.log(waits.map((w) => w.toFixed(1)).join(" "), downloaded);
  // All of them came back while the download was still moving.
  expect(finished).toBe(false);
  await download;
  expect(downloaded).toBe(BIG);
  waits.sort((a, b) => a - b);
  console.log(`small requests during the download: p50 ${waits[49]!.toFixed(2)} ms, p99 ${waits[98]!.toFixed(2)} ms (one process: broker, client and both servers share a core)`);
}, 60_000);
