// How the tunnel client reads a local server's body: small pieces go at once, unless they come fast.
import { expect, test } from "bun:test";
import { gatheredBody } from "../../src/tunnel/gathered-body.ts";

function pieces(count: number, size: number, gapMs: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(c) {
      if (i === count) return c.close();
      if (gapMs > 0 && i > 0) await Bun.sleep(gapMs);
      c.enqueue(new Uint8Array(size).fill(i++ % 256));
    },
  });
}

test("a token stream (small pieces, 5 ms apart) comes out piece by piece, none held", async () => {
  const out: number[] = [];
  for await (const chunk of gatheredBody(pieces(30, 40, 5))) out.push(chunk.byteLength);
  expect(out).toEqual(Array(30).fill(40));
});

test("small pieces coming fast are gathered into far fewer frames, bytes in order", async () => {
  const chunks: Uint8Array[] = [];
  for await (const chunk of gatheredBody(pieces(5000, 1000, 0))) chunks.push(chunk);
  const all = Buffer.concat(chunks);
  expect(all.byteLength).toBe(5_000_000);
  for (let i = 0; i < 5000; i += 499) expect(all[i * 1000]).toBe(i % 256);
  expect(chunks.length).toBeLessThan(1000);
});

test("big pieces pass through as they are", async () => {
  const chunks: number[] = [];
  for await (const chunk of gatheredBody(pieces(10, 64 * 1024, 0))) chunks.push(chunk.byteLength);
  expect(chunks).toEqual(Array(10).fill(64 * 1024));
});
