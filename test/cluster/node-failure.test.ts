import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DEFAULT_CONFIG, parseArgs } from "../../src/config.ts";
import { heartbeatInterval } from "../../src/cluster/node-liveness.ts";
import { sessionTopic } from "../../src/cluster/hub.ts";
import { spawnServer, type RunningCli } from "../helpers/cli.ts";
import { nodeId, startNodes, untilHealth } from "../helpers/cluster.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";
import type { TestServer } from "../helpers/server.ts";
import { registeredOrigin, TestSocket } from "../helpers/ws-client.ts";

const TTL_MS = 2000;
const NODE = join(import.meta.dir, "../helpers/cluster-node.ts");
const wsOf = (url: string) => `${url.replace(/^http/, "ws")}/signal`;

test("the default --cluster-ttl is 10 s and deaths are noticed within it plus one second", () => {
  const shared = ["--registry", "postgres", "--database-url", "postgres://u@127.0.0.1/db", "--blob-store", "s3://bucket"];
  const command = parseArgs(["--cluster", "redis://127.0.0.1:6379", ...shared]);
  expect(command.kind === "serve" && command.config.clusterTtlMs).toBe(10_000);
  expect(DEFAULT_CONFIG.clusterTtlMs).toBe(10_000);
  // A death is noticed at the first heartbeat past the TTL: the interval is the slack.
  expect(heartbeatInterval(DEFAULT_CONFIG.clusterTtlMs)).toBeLessThanOrEqual(500);
  expect(heartbeatInterval(TTL_MS)).toBeLessThanOrEqual(500);
  expect(() => parseArgs(["--cluster", "http://x", ...shared])).toThrow("redis:");
  expect(() => parseArgs(["--cluster-ttl", "10ms"])).toThrow("500ms");
});

describe.skipIf(!redisOrSkip())("cluster nodes that die (kill -9)", () => {
  let redis: TestRedis;
  let a: TestServer;
  const spawned: RunningCli[] = [];
  const spawnNode = async () => {
    const node = await spawnServer(["--cluster-ttl", `${TTL_MS}ms`], { command: [process.execPath, NODE], env: { CLUSTER_NODE_REDIS: redis.url } });
    spawned.push(node);
    await untilHealth(node.url, (h) => h.cluster?.state === "ok");
    return node;
  };

  beforeAll(async () => {
    redis = await startRedis();
    [a] = await startNodes(redis.url, 1, { clusterTtlMs: TTL_MS });
  });

  afterAll(async () => {
    for (const node of spawned) node.proc.kill("SIGKILL");
    await a?.close();
    await redis?.stop();
  });

  test("the origin's node dies mid-negotiation: the visitor hears origin offline within the TTL + 1 s; the origin moves on", async () => {
    const [b, c] = await Promise.all([spawnNode(), spawnNode()]);
    const origin = await registeredOrigin(wsOf(b.url), "pod-kill");
    const visitor = await TestSocket.open(a.wsUrl);
    visitor.send({ t: "offer", podId: "pod-kill", sessionId: "k1", sdp: "x" });
    await origin.next({ t: "offer" });
    const killed = performance.now();
    b.proc.kill("SIGKILL");
    expect(await visitor.next({ t: "error" }, TTL_MS + 2000)).toEqual({ t: "error", sessionId: "k1", message: "origin offline" });
    const heard = performance.now() - killed;
    expect(heard).toBeLessThan(TTL_MS + 1000);
    expect(a.server.sessions()).toBe(0);
    // The origin's client reconnects elsewhere: new visitors succeed.
    const moved = await registeredOrigin(wsOf(c.url), "pod-kill");
    visitor.send({ t: "offer", podId: "pod-kill", sessionId: "k2", sdp: "y" });
    expect(await moved.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "k2", sdp: "y" });
    moved.send({ t: "answer", sessionId: "k2", sdp: "z" });
    expect(await visitor.next({ t: "answer" })).toEqual({ t: "answer", sessionId: "k2", sdp: "z" });
    // The dead node is forgotten: no interest, claim or heartbeat of it is left in Redis.
    await untilHealth(a.url, (h) => h.cluster?.nodes === 2, TTL_MS + 2000);
    visitor.close();
    moved.close();
  }, 20_000);

  test("a visitor's node dies: the origin's side holds nothing of its sessions", async () => {
    const v = await spawnNode();
    const vNode = await nodeId(v.url);
    const origin = await registeredOrigin(a.wsUrl, "pod-vkill");
    const visitor = await TestSocket.open(wsOf(v.url));
    visitor.send({ t: "offer", podId: "pod-vkill", sessionId: "v1", sdp: "x" });
    await origin.next({ t: "offer" });
    expect(await redis.command("SMEMBERS", `gp:t:${sessionTopic("pod-vkill", "v1")}`)).toEqual([vNode]);
    v.proc.kill("SIGKILL");
    await v.proc.exited;
    // Its channel has no subscriber any more: the answer finds nobody at once.
    origin.send({ t: "answer", sessionId: "v1", sdp: "y" });
    expect(await origin.next({ t: "error" }, 1000)).toEqual({ t: "error", sessionId: "v1", message: "unknown session" });
    expect(a.server.sessions()).toBe(0);
    // Within the TTL plus a beat, another node removes all it had announced.
    const deadline = Date.now() + TTL_MS + 2000;
    while ((await redis.command("EXISTS", `gp:ni:${vNode}`)) === 1 && Date.now() < deadline) await Bun.sleep(100);
    expect(await redis.command("EXISTS", `gp:ni:${vNode}`)).toBe(0);
    expect(await redis.command("SMEMBERS", `gp:t:${sessionTopic("pod-vkill", "v1")}`)).toEqual([]);
    origin.close();
  }, 20_000);
});
