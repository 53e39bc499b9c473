// The visitor's side of the node-to-node hop, against a stand-in for the tunnel's node on
// loopback: what makes it forget a route, what it never passes on, how long it waits.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { HOP_CREDENTIAL, HOP_NO_CLIENT, NodeHop, unwrapHop } from "../../src/tunnel/node-hop.ts";
import type { VisitorInfo } from "../../src/tunnel/directory.ts";

const CREDENTIAL = "node-credential-123";
let node: Server<unknown>;
const seen: { url: string; path: string; host: string }[] = [];

beforeAll(() => {
  node = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req, srv) {
      const hop = unwrapHop(req)!;
      const { name } = hop;
      if (name === "moved") return Response.json({ error: "no client" }, { status: 502, headers: { [HOP_NO_CLIENT]: req.headers.get(HOP_CREDENTIAL)! } });
      // A tunnelled server setting the marker itself: it does not know the credential.
      if (name === "spoof") return Response.json({ error: "from the origin" }, { status: 502, headers: { [HOP_NO_CLIENT]: "guess" } });
      if (name === "silent") return new Promise(() => srv.timeout(req, 0));
      seen.push({ url: hop.request.url, path: hop.visitor.path, host: hop.request.headers.get("host")! });
      return new Response("ok");
    },
  });
});
afterAll(() => node?.stop(true));

function hop(name: string, timeoutMs = 5000) {
  let stale = 0;
  const endpoint = new NodeHop({ base: `http://127.0.0.1:${node.port}`, credential: CREDENTIAL, name, timeoutMs, stale: () => stale++ });
  return { endpoint, stale: () => stale };
}
const visitor = (path: string, subdomain = false): VisitorInfo => ({ ip: "10.0.0.1", proto: "https", host: "broker.example", path, subdomain });

test("the tunnel's node saying its client is gone makes the visitor's node forget the route; the marker is not passed on", async () => {
  const h = hop("moved");
  const res = await h.endpoint.fetch(new Request("https://broker.example/tunnel/moved/x"), visitor("/x"));
  expect(res.status).toBe(502);
  expect(res.headers.has(HOP_NO_CLIENT)).toBe(false);
  expect(h.stale()).toBe(1);
});

test("a tunnelled server cannot make the route be forgotten, and its marker is dropped", async () => {
  const h = hop("spoof");
  const res = await h.endpoint.fetch(new Request("https://broker.example/tunnel/spoof/x"), visitor("/x"));
  expect(res.status).toBe(502);
  expect(await res.json()).toEqual({ error: "from the origin" });
  expect(res.headers.has(HOP_NO_CLIENT)).toBe(false);
  expect(h.stale()).toBe(0);
});

test("a node that takes the request and never answers: 504 after the bound, and the route is forgotten", async () => {
  const h = hop("silent", 300);
  const started = performance.now();
  const res = await h.endpoint.fetch(new Request("https://broker.example/tunnel/silent/"), visitor("/"));
  expect(res.status).toBe(504);
  expect(performance.now() - started).toBeLessThan(2000);
  expect(h.stale()).toBe(1);
});

test("a 12 KB URL crosses (in the hop's own URL, not a header), and the tunnel's node rebuilds it exactly", async () => {
  const long = `/x?q=${"a".repeat(12 * 1024)}`;
  const res = await hop("fine").endpoint.fetch(new Request(`https://broker.example/tunnel/fine${long}`), visitor(long));
  expect(res.status).toBe(200);
  const sub = await hop("fine").endpoint.fetch(new Request("https://fine.tunnels.example/a/b?c"), { ...visitor("/a/b?c", true), host: "fine.tunnels.example" });
  expect(sub.status).toBe(200);
  expect(seen).toEqual([
    { url: `https://broker.example/tunnel/fine${long}`, path: long, host: "broker.example" },
    { url: "https://fine.tunnels.example/a/b?c", path: "/a/b?c", host: "fine.tunnels.example" },
  ]);
});
