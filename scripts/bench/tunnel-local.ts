// The owner's local HTTP server in the tunnel benchmark (what Ollama would be):
// /big is 20 MB, /sink reads a body and answers its size, anything else "ok".
// Prints "local ready <url>".
const big = new Uint8Array(20 * 1024 * 1024).map((_, i) => i & 0xff);

const local = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  idleTimeout: 0,
  async fetch(req) {
    const { pathname } = new URL(req.url);
    if (pathname === "/big") return new Response(big);
    if (pathname === "/sink") {
      let n = 0;
      for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) n += chunk.byteLength;
      return new Response(String(n));
    }
    return new Response("ok");
  },
});
console.log(`local ready http://127.0.0.1:${local.port}`);
process.on("SIGTERM", () => process.exit(0));
