import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server, ServerWebSocket } from "bun";
import { join } from "node:path";
import { RedisHub } from "../../src/cluster/redis-hub.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";

const TTL_MS = 1500;
const NODE = join(import.meta.dir, "../helpers/presence-node.ts");

/** A member on another node, in its own process; resolves once it joined, with who it saw. */
async function remoteMember(redisUrl: string, member: string, topic: string, farewell: string) {
  const proc = Bun.spawn([process.execPath, NODE, redisUrl, String(TTL_MS), "room-1", member, topic, farewell], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`presence node exited: ${out}`);
    out += new TextDecoder().decode(value);
  }
  return { proc, others: JSON.parse(out.slice(out.indexOf(" ") + 1)) as string[] };
}

describe.skipIf(!redisOrSkip())("presence across nodes (Hub.join with a farewell)", () => {
  let redis: TestRedis;
  let server: Server<unknown>;
  let hub: RedisHub;

  beforeAll(async () => {
    redis = await startRedis();
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req, srv) => (srv.upgrade(req, { data: {} }) ? undefined : new Response("upgrade", { status: 426 })),
      websocket: { open: (ws: ServerWebSocket<unknown>) => hub.subscribe(ws, "room:1"), message() {}, close: (ws) => hub.unsubscribe(ws, "room:1") },
    });
    hub = new RedisHub({ url: redis.url, ttlMs: TTL_MS, server: () => server });
    await hub.ready;
  });

  afterAll(async () => {
    await hub?.close();
    server?.stop(true);
    await redis?.stop();
  });

  test("members see each other across nodes; a killed node's member says its farewell within the TTL + 1 s", async () => {
    const listener = new WebSocket(`ws://127.0.0.1:${server.port}`);
    const heard: string[] = [];
    listener.onmessage = (e) => heard.push(String(e.data));
    await new Promise((resolve) => (listener.onopen = resolve));
    expect(await hub.join("room-1", "peer-a")).toEqual([]);
    const farewell = JSON.stringify({ type: "peer-left", peer: "peer-x", note: "é 🧪" });
    const remote = await remoteMember(redis.url, "peer-x", "room:1", farewell);
    expect(remote.others).toEqual(["peer-a"]);
    expect((await hub.join("room-1", "peer-b")).sort()).toEqual(["peer-a", "peer-x"]);
    const killed = performance.now();
    remote.proc.kill("SIGKILL");
    while (heard.length === 0 && performance.now() - killed < TTL_MS + 2000) await Bun.sleep(20);
    expect(heard).toEqual([farewell]);
    expect(performance.now() - killed).toBeLessThan(TTL_MS + 1000);
    // It is gone from the group, and a member that leaves says nothing.
    expect((await hub.join("room-1", "peer-c")).sort()).toEqual(["peer-a", "peer-b"]);
    hub.leave("room-1", "peer-c");
    expect(await redis.command("HKEYS", "gp:g:room-1")).toEqual(expect.arrayContaining(["peer-a", "peer-b"]));
    expect(await redis.command("HEXISTS", "gp:g:room-1", "peer-c")).toBe(0);
    listener.close();
  }, 15_000);
});
