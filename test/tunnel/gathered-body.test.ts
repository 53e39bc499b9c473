// How the tunnel client reads a local server's body: small pieces go at once, unless they come fast.
import { expect, test } from "bun:test";
import { gatheredBody } from "../../src/tunnel/gathered-body.ts";
import { digest, digestOf, randomBytes, type Digest } from "../helpers/random-body.ts";

/** `count` random pieces of `size` bytes, `gapMs` apart; `sent` is their digest once all went out. */
function pieces(count: number, size: number, gapMs: number): ReadableStream<Uint8Array> & { sent: Digest } {
  const all = randomBytes(count * size);
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (i === count) return c.close();
      if (gapMs > 0 && i > 0) await Bun.sleep(gapMs);
      c.enqueue(all.slice(i * size, ++i * size));
    },
  });
  return Object.assign(stream, { sent: digestOf(all) });
}

test("a token stream (small pieces, 5 ms apart) comes out piece by piece, none held", async () => {
  const out: number[] = [];
  for await (const chunk of gatheredBody(pieces(30, 40, 5))) out.push(chunk.byteLength);
  expect(out).toEqual(Array(30).fill(40));
});

test("small pieces coming fast are gathered into far fewer frames, bytes in order", async () => {
  const source = pieces(5000, 1000, 0);
  let frames = 0;
  const counted = (async function* () {
    for await (const chunk of gatheredBody(source)) (frames++, yield chunk);
  })();
  expect(await digest(counted)).toEqual(source.sent);
  expect(frames).toBeLessThan(1000);
});

test("big pieces pass through as they are", async () => {
  const chunks: number[] = [];
  for await (const chunk of gatheredBody(pieces(10, 64 * 1024, 0))) chunks.push(chunk.byteLength);
  expect(chunks).toEqual(Array(10).fill(64 * 1024));
});
