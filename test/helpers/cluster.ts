// Cluster nodes for tests: in-process servers on one Redis, and a wait for them to join.
import { expect } from "bun:test";
import type { Registry } from "../../src/registry/types.ts";
import type { CreateSignalServerOptions } from "../../src/server.ts";
import { startServer, type TestServer } from "./server.ts";

export type Health = { ok: boolean; origins: string[]; cluster?: { node: string; state: "ok" | "degraded"; nodes: number } };

export async function health(url: string): Promise<Health> {
  return (await fetch(`${url}/health`)).json() as Promise<Health>;
}

/** Polls until `check` passes on `/health`, or fails after `ms`. */
export async function untilHealth(url: string, check: (h: Health) => boolean, ms = 5000): Promise<Health> {
  const deadline = Date.now() + ms;
  for (;;) {
    const h = await health(url);
    if (check(h)) return h;
    if (Date.now() > deadline) throw new Error(`health never matched: ${JSON.stringify(h)}`);
    await Bun.sleep(50);
  }
}

/** `count` in-process nodes on `redisUrl`, each seeing all of them; each opens its own registry with `open` (memory by default). */
export async function startNodes(redisUrl: string, count: number, options: Partial<CreateSignalServerOptions> = {}, open?: () => Promise<Registry>): Promise<TestServer[]> {
  const registries = await Promise.all(Array.from({ length: count }, () => open?.()));
  const nodes = registries.map((registry) => startServer({ cluster: redisUrl, clusterTtlMs: 2000, ...options, ...(registry ? { registry } : {}) }));
  for (const n of nodes) await untilHealth(n.url, (h) => h.cluster?.state === "ok" && h.cluster.nodes >= count);
  return nodes;
}

/** The cluster node id a server reports. */
export async function nodeId(url: string): Promise<string> {
  const h = await health(url);
  expect(h.cluster).toBeDefined();
  return h.cluster!.node;
}
