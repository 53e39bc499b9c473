// The owner's local HTTP server in the tunnel benchmarks (what Ollama would be):
// /big is 20 MB, /sink reads a body and answers its size, /random is RANDOM_BYTES of
// random bytes (its SHA-256 at /random.sha256), /hash reads a body and answers its
// SHA-256, /stream?bytes=N streams N bytes, anything else "ok".
// Prints "local ready <url>".
const big = new Uint8Array(20 * 1024 * 1024).map((_, i) => i & 0xff);
/** What /random serves: random, so a transfer that loses or reorders bytes cannot match its hash. */
const RANDOM_BYTES = 40 * 1024 * 1024;
const random = new Uint8Array(RANDOM_BYTES);
for (let at = 0; at < RANDOM_BYTES; at += 65536) crypto.getRandomValues(random.subarray(at, at + 65536));
const randomSha = new Bun.CryptoHasher("sha256").update(random).digest("hex");
const piece = big.subarray(0, 256 * 1024);

const local = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  idleTimeout: 0,
  async fetch(req) {
    const { pathname, searchParams } = new URL(req.url);
    if (pathname === "/big") return new Response(big);
    if (pathname === "/random") return new Response(random);
    if (pathname === "/random.sha256") return new Response(randomSha);
    if (pathname === "/stream") {
      let left = Number(searchParams.get("bytes") ?? 0);
      return new Response(
        new ReadableStream({
          type: "direct",
          async pull(controller: { write(b: Uint8Array): Promise<unknown> | number; close(): void }) {
            while (left > 0) {
              const n = Math.min(left, piece.byteLength);
              left -= n;
              await controller.write(piece.subarray(0, n));
            }
            controller.close();
          },
        } as any),
        { headers: { "content-type": "application/octet-stream" } },
      );
    }
    if (pathname === "/sink" || pathname === "/hash") {
      const hasher = new Bun.CryptoHasher("sha256");
      let n = 0;
      for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
        n += chunk.byteLength;
        if (pathname === "/hash") hasher.update(chunk);
      }
      return new Response(pathname === "/hash" ? hasher.digest("hex") : String(n));
    }
    return new Response("ok");
  },
});
console.log(`local ready http://127.0.0.1:${local.port}`);
process.on("SIGTERM", () => process.exit(0));
