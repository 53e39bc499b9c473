// Small requests on a tunnel that is also carrying a big download (frames queued, windows full):
// they are answered while it runs, not after it (no head-of-line blocking behind its body). The
// download never ends on its own, so a small answer stuck behind it would never come.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { tunnelled, type Tunnelled } from "./harness.ts";

const piece = crypto.getRandomValues(new Uint8Array(64 * 1024));
let t: Tunnelled;

beforeAll(async () => {
  t = await tunnelled((req) => {
    const path = new URL(req.url).pathname;
    if (path !== "/endless") return new Response(`small ${path}`);
    return new Response(new ReadableStream({ pull: (c) => c.enqueue(piece) }, { highWaterMark: 0 }));
  });
});
afterAll(() => t?.close());

test("small requests are answered while an endless download runs on the same tunnel", async () => {
  const abort = new AbortController();
  let downloaded = 0;
  const download = fetch(`${t.url}/endless`, { signal: abort.signal })
    .then(async (r) => {
      for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) downloaded += chunk.byteLength;
    })
    .catch(() => {});
  while (downloaded < 16 * 1024 * 1024) await Bun.sleep(5);
  const before = downloaded;
  const waits: number[] = [];
  for (let i = 0; i < 100; i++) {
    const started = performance.now();
    const r = await fetch(`${t.url}/s${i}`);
    expect(await r.text()).toBe(`small /s${i}`);
    waits.push(performance.now() - started);
  }
  // The download kept moving meanwhile: the small answers went between its frames.
  expect(downloaded).toBeGreaterThan(before);
  abort.abort();
  await download;
  expect(await (await fetch(`${t.url}/after`)).text()).toBe("small /after");
  waits.sort((a, b) => a - b);
  console.log(`small requests during the download: p50 ${waits[49]!.toFixed(2)} ms, p99 ${waits[98]!.toFixed(2)} ms, ${((downloaded - before) / 2 ** 20).toFixed(0)} MiB meanwhile (one process: broker, client and both servers share a core)`);
}, 60_000);
