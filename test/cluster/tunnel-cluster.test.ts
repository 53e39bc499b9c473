// A tunnel whose client is on one node and whose visitor is on another: the request
// crosses by the node-to-node hop, bodies streamed both ways; the hop path admits
// nothing without a node's credential; a tunnel whose node dies answers 502.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { join } from "node:path";
import { startTunnel, type TunnelClient } from "../../src/tunnel/client.ts";
import { HOP_CREDENTIAL, HOP_PATH } from "../../src/tunnel/node-hop.ts";
import { spawnServer, type RunningCli } from "../helpers/cli.ts";
import { startNodes, untilHealth } from "../helpers/cluster.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";
import type { TestServer } from "../helpers/server.ts";
import { newKey, uniqueName } from "../tunnel/harness.ts";
import { digest, digestOf, randomBytes, sha256 } from "../helpers/random-body.ts";

const TTL_MS = 2000;
const NODE = join(import.meta.dir, "../helpers/cluster-node.ts");
const MB = 1024 * 1024;

/** 20 MB of random bytes, served in 64 KiB chunks: any reordering or loss shows in the hash. */
const BIG = randomBytes(20 * MB);
const expected = digestOf(BIG);
function bigBody(): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i === 320) return controller.close();
      controller.enqueue(BIG.subarray(i * 64 * 1024, ++i * 64 * 1024));
    },
  });
}

describe.skipIf(!redisOrSkip())("/.tunnel across nodes (the node-to-node hop)", () => {
  let redis: TestRedis;
  let a: TestServer, b: TestServer, c: TestServer;
  let local: Server<unknown>;
  let client: TunnelClient;
  const name = uniqueName("hop");
  const spawned: RunningCli[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    [a, b, c] = await startNodes(redis.url, 3, { clusterTtlMs: TTL_MS });
    local = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 0,
      fetch(req, srv) {
        const url = new URL(req.url);
        if (url.pathname === "/big") return new Response(bigBody(), { headers: { "content-type": "application/octet-stream" } });
        if (url.pathname === "/echo") return new Response(req.body, { headers: { "x-seen-host": req.headers.get("x-forwarded-host") ?? "", "x-seen-for": req.headers.get("x-forwarded-for") ?? "" } });
        if (url.pathname === "/ws" && srv.upgrade(req)) return undefined;
        return new Response(`${req.method} ${url.pathname}${url.search}`);
      },
      websocket: { message: (ws, m) => ws.send(typeof m === "string" ? `echo:${m}` : m) },
    });
    client = startTunnel({ server: b.url, to: `http://127.0.0.1:${local.port}`, name, key: await newKey(), minBackoffMs: 50, maxBackoffMs: 200 });
    await client.ready;
  });

  afterAll(async () => {
    client?.close();
    local?.stop(true);
    for (const node of spawned) node.proc.kill("SIGKILL");
    await Promise.all([a, b, c].map((n) => n?.close()));
    await redis?.stop();
  });

  test("a visitor on A gets a 20 MB streamed response from a tunnel client on B, byte for byte", async () => {
    const res = await fetch(`${a.url}/tunnel/${name}/big`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    // Served from the broker's origin: sandboxed on every node, the hop included.
    expect(res.headers.get("content-security-policy")).toContain("sandbox");
    expect(await digest(res.body!)).toEqual(expected);
    expect(expected.bytes).toBe(20 * MB);
  }, 30_000);

  test("a 5 MB request body streams from A to B's client, and the query, the visitor's host and address arrive", async () => {
    const body = randomBytes(5 * MB);
    const res = await fetch(`${a.url}/tunnel/${name}/echo?x=1`, { method: "POST", body });
    expect(res.status).toBe(200);
    expect(sha256(await res.arrayBuffer())).toBe(sha256(body));
    expect(res.headers.get("x-seen-host")).toBe(new URL(a.url).host);
    expect(res.headers.get("x-seen-for")).toBe("127.0.0.1");
    expect(await (await fetch(`${a.url}/tunnel/${name}/q?a=b&c`)).text()).toBe("GET /q?a=b&c");
  }, 30_000);

  test("a websocket through the tunnel, visitor on A, client on B", async () => {
    const ws = new WebSocket(`${a.url.replace(/^http/, "ws")}/tunnel/${name}/ws`);
    const heard: string[] = [];
    await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
    ws.onmessage = (e) => heard.push(String(e.data));
    for (let i = 0; i < 20; i++) ws.send(`m${i}`);
    const deadline = Date.now() + 5000;
    while (heard.length < 20 && Date.now() < deadline) await Bun.sleep(20);
    expect(heard).toEqual(Array.from({ length: 20 }, (_, i) => `echo:m${i}`));
    ws.close();
  });

  test("Redis away: known routes still served, unknown names 503; restarted empty: once the nodes re-announced, the tunnel on B is reached from A again", async () => {
    await redis.kill();
    try {
      // A's route to B was learnt before: it goes on serving; a name never looked up cannot be found.
      expect(await (await fetch(`${a.url}/tunnel/${name}/during`)).text()).toBe("GET /during");
      const unknown = await fetch(`${a.url}/tunnel/never-seen-${process.pid}/`);
      expect(unknown.status).toBe(503);
      expect(unknown.headers.get("retry-after")).toBe("1");
    } finally {
      await redis.start();
    }
    for (const node of [a, b, c]) await untilHealth(node.url, (h) => h.cluster?.state === "ok" && h.cluster.nodes >= 3, 10_000);
    // A node may report ok a moment before it noticed the restart: the route comes back within seconds.
    let text = "";
    for (const deadline = Date.now() + 5000; text !== "GET /after-restart" && Date.now() < deadline; await Bun.sleep(100)) {
      text = await (await fetch(`${a.url}/tunnel/${name}/after-restart`)).text();
    }
    expect(text).toBe("GET /after-restart");
  }, 20_000);

  test("a register while Redis does not answer is refused 1013; the client comes back by itself once Redis answers", async () => {
    const late = uniqueName("late");
    redis.freeze();
    let second: TunnelClient | undefined;
    try {
      let refused!: (reason: string) => void;
      const closed = new Promise<string>((resolve) => (refused = resolve));
      second = startTunnel({ server: b.url, to: `http://127.0.0.1:${local.port}`, name: late, key: await newKey(), minBackoffMs: 50, maxBackoffMs: 200, onDisconnected: (reason) => refused(reason) });
      second.ready.catch(() => {});
      // Once Redis missed its reply deadline, the register is told to come back later.
      expect(await closed).toStartWith("closed 1013");
      redis.thaw();
      await second.ready;
      for (const node of [a, b]) expect(await (await fetch(`${node.url}/tunnel/${late}/x`)).text()).toBe("GET /x");
    } finally {
      redis.thaw();
      second?.close();
    }
  }, 20_000);

  test("A remembers where a tunnel is until it moves: the same key registering on C takes it from B, and A follows", async () => {
    const moving = uniqueName("follow");
    const key = await newKey();
    const servers = ["on-b", "on-c"].map((label) => Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(label) }));
    const refused: string[] = [];
    const retried: string[] = [];
    try {
      const first = startTunnel({ server: b.url, to: `http://127.0.0.1:${servers[0]!.port}`, name: moving, key, minBackoffMs: 50, maxBackoffMs: 200, onRefused: (m) => refused.push(m), onDisconnected: (m) => retried.push(m) });
      await first.ready;
      expect(await (await fetch(`${a.url}/tunnel/${moving}/`)).text()).toBe("on-b");
      const second = startTunnel({ server: c.url, to: `http://127.0.0.1:${servers[1]!.port}`, name: moving, key, minBackoffMs: 50, maxBackoffMs: 200 });
      await second.ready;
      // The takeover reaches A as the old holder's end; its next request goes to C.
      let text = "";
      for (const deadline = Date.now() + 10_000; text !== "on-c" && Date.now() < deadline; await Bun.sleep(20)) text = await (await fetch(`${a.url}/tunnel/${moving}/`)).text();
      expect(text).toBe("on-c");
      // The replaced client stops instead of taking the name back.
      expect(refused).toEqual(["another tunnel client registered this name with the same key; this one stops"]);
      // A reconnect is scheduled in the same close handler, announced by onDisconnected: none was.
      expect(retried).toEqual([]);
      expect(await (await fetch(`${a.url}/tunnel/${moving}/`)).text()).toBe("on-c");
      first.close();
      second.close();
    } finally {
      for (const server of servers) server.stop(true);
    }
  });

  test("the hop path: 404 without the node's credential, 400 for a malformed hop, never a way in", async () => {
    expect((await fetch(`${b.url}${HOP_PATH}${name}/big`)).status).toBe(404);
    expect((await fetch(`${b.url}${HOP_PATH}${name}`, { headers: { [HOP_CREDENTIAL]: "guess" } })).status).toBe(404);
    const credential = String(await redis.command("HGET", "gp:addr", (await (await fetch(`${b.url}/health`)).json()).cluster.node)).split(" ")[0]!;
    const bad = await fetch(`${b.url}${HOP_PATH}${name}`, { headers: { [HOP_CREDENTIAL]: credential, "x-gemmapod-visitor": "not-json" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "malformed hop" });
  });

  test("no tunnel of that name on any node: 502; the client's node killed: 502 at once, and its name moves to another node", async () => {
    expect((await fetch(`${a.url}/tunnel/nobody-${process.pid}/`)).status).toBe(502);
    const c = await spawnServer(["--cluster-ttl", `${TTL_MS}ms`], { command: [process.execPath, NODE], env: { CLUSTER_NODE_REDIS: redis.url } });
    spawned.push(c);
    await untilHealth(c.url, (h) => h.cluster?.state === "ok");
    const moving = uniqueName("moving");
    const key = await newKey();
    const first = startTunnel({ server: c.url, to: `http://127.0.0.1:${local.port}`, name: moving, key, minBackoffMs: 50, maxBackoffMs: 200 });
    await first.ready;
    expect(await (await fetch(`${a.url}/tunnel/${moving}/x`)).text()).toBe("GET /x");
    c.proc.kill("SIGKILL");
    await c.proc.exited;
    const after = await fetch(`${a.url}/tunnel/${moving}/x`);
    expect(after.status).toBe(502);
    first.close();
    // Behind a load balancer the client reconnects to a live node; the same key takes the name there.
    const second = startTunnel({ server: b.url, to: `http://127.0.0.1:${local.port}`, name: moving, key, minBackoffMs: 50, maxBackoffMs: 200 });
    await second.ready;
    expect(await (await fetch(`${a.url}/tunnel/${moving}/y`)).text()).toBe("GET /y");
    second.close();
  }, 20_000);
});
