// The owner's side of the tunnel benchmark, in its own process: a local HTTP
// server and a tunnel client exposing it through the broker given by --server.
// Prints "origin ready <local url> <tunnel url>".
import { newOwnerKey } from "../../src/client/origin-auth.ts";
import { startTunnel } from "../../src/tunnel/client.ts";

const server = process.argv[process.argv.indexOf("--server") + 1]!;
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
const localUrl = `http://127.0.0.1:${local.port}`;
const tunnel = startTunnel({ server, name: `bench-${process.pid}`, to: localUrl, key: await newOwnerKey() });
console.log(`origin ready ${localUrl} ${await tunnel.ready}`);
process.on("SIGTERM", () => process.exit(0));
