// The cluster suite's processes: a throwaway redis-server, what Redis did (INFO), and
// cluster nodes. The CLI refuses --cluster without Postgres and S3; routing /signal and
// tunnels needs neither, so a node is the tests' library-path node
// (test/helpers/cluster-node.ts: our flags, a memory registry, the Redis URL in the env).
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { spawnTracked, stopProcess } from "./processes.ts";
import { freePort, HOST, oursCommand, ROOT, startServer, type RunningServer, type ServerSpec } from "./servers.ts";

export const REDIS_SERVER = "/usr/bin/redis-server";
const CLUSTER_NODE = join(ROOT, "test/helpers/cluster-node.ts");

export interface RedisCounters {
  calls: number;
  cpuMicros: number;
}

export async function redisCounters(url: string): Promise<RedisCounters> {
  const client = new Bun.RedisClient(url);
  try {
    const stats = String(await client.send("INFO", ["commandstats"]));
    const cpu = String(await client.send("INFO", ["cpu"]));
    let calls = 0;
    // Commands run inside scripts count too: that is the work Redis does per message.
    for (const m of stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (m[1] !== "info") calls += Number(m[2]);
    const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(cpu)?.[1] ?? 0);
    return { calls, cpuMicros: (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1e6 };
  } finally {
    client.close();
  }
}

export async function startRedis(logDir: string, port = freePort()): Promise<{ url: string; stop(): Promise<void> }> {
  mkdirSync(logDir, { recursive: true });
  const fd = openSync(join(logDir, "redis.log"), "a");
  const proc = spawnTracked([REDIS_SERVER, "--save", "", "--appendonly", "no", "--bind", HOST, "--port", String(port)], { stdout: fd, stderr: fd });
  closeSync(fd);
  const url = `redis://${HOST}:${port}`;
  for (let i = 0; i < 100; i++) {
    const client = new Bun.RedisClient(url, { autoReconnect: false, connectionTimeout: 500 });
    const up = await client.ping().then(() => true, () => false);
    client.close();
    if (up) return { url, stop: () => stopProcess(proc, 0) };
    await Bun.sleep(50);
  }
  await stopProcess(proc, 0);
  throw new Error("redis-server did not start");
}

/** Our node (the bench's flags for ours) joining the cluster on `redisUrl`; its log goes to `logDir`. */
export function startClusterNode(redisUrl: string, logDir: string): Promise<RunningServer> {
  const node: ServerSpec = {
    name: "ours",
    label: "ours, cluster node (test/helpers/cluster-node.ts)",
    hasRegistry: true,
    command: oursCommand([process.execPath, CLUSTER_NODE]),
    needsFixedPort: false,
    env: { CLUSTER_NODE_REDIS: redisUrl },
  };
  return startServer(node, logDir);
}

export async function untilClusterOk(url: string, nodes: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const h = (await fetch(`${url}/health`).then((r) => r.json(), () => ({}))) as { cluster?: { state: string; nodes: number } };
    if (h.cluster?.state === "ok" && h.cluster.nodes >= nodes) return;
    await Bun.sleep(25);
  }
  throw new Error(`${url} never joined a ${nodes}-node cluster`);
}
