// The soak's cluster: real Redis, Postgres and S3 (s3rver), three nodes as processes of the
// CLI on fixed ports (so a node killed with -9 comes back where its clients look for it).
import { readFileSync } from "node:fs";
import { spawnServer, type RunningCli } from "../../../test/helpers/cli.ts";
import { startRedis, type TestRedis } from "../../../test/helpers/redis.ts";
import { startPostgres, startS3, type PostgresService, type S3Service } from "../../../test/helpers/services.ts";
import { freePort } from "../servers.ts";

/** Short, so a dead node (or a frozen Redis) is noticed within the soak's fault windows. */
export const CLUSTER_TTL_MS = 3000;

export interface SoakNode {
  url: string;
  port: number;
  proc: RunningCli;
  /** RSS when first measured, and of the first process (a restarted node starts a new one). */
  rssStart?: number;
  restarts: number;
}

export interface SoakCluster {
  nodes: SoakNode[];
  redis: TestRedis;
  pg: PostgresService;
  s3: S3Service;
  killNode(i: number): Promise<void>;
  startNode(i: number): Promise<void>;
  rss(i: number): number | undefined;
  stop(): Promise<void>;
}

/** Null when Postgres or s3rver is not installed (services.ts said which). */
export async function startSoakCluster(count = 3): Promise<SoakCluster | null> {
  const [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  if (!pg || !s3) {
    await Promise.all([pg?.stop(), s3?.stop()]);
    return null;
  }
  const redis = await startRedis();
  const database = await pg.freshDatabase();
  const s3Url = new URL(s3.url);
  const args = (port: number) => [
    "--port", String(port),
    "--registry", "postgres",
    "--database-url", database,
    "--blob-store", `s3://${s3.bucket}/soak-${process.pid}`,
    "--s3-endpoint", s3Url.origin,
    "--cluster", redis.url,
    "--cluster-ttl", `${CLUSTER_TTL_MS}ms`,
    // The soak is about faults, not the upload limit: a pod a second across the nodes.
    "--upload-rate", "600",
    // Pods are 1.1 MB: the default 128 MiB page cache would fill during the run and hide any
    // other growth of RSS. It is bounded by this flag; a small one leaves a trend to see.
    "--pod-cache-bytes", "16m",
    "--log-level", "warn",
  ];
  const env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: "us-east-1" };
  const nodes: SoakNode[] = [];
  for (let i = 0; i < count; i++) {
    const port = freePort();
    const proc = await spawnServer(args(port), { env, timeoutMs: 30_000 });
    nodes.push({ url: proc.url, port, proc, restarts: 0 });
  }
  const rss = (i: number) => {
    try {
      return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${nodes[i]!.proc.proc.pid}/status`, "utf8"))![1]) * 1024;
    } catch {
      return undefined;
    }
  };
  return {
    nodes,
    redis,
    pg,
    s3,
    rss,
    async killNode(i) {
      nodes[i]!.proc.proc.kill("SIGKILL");
      await nodes[i]!.proc.proc.exited;
    },
    async startNode(i) {
      const node = nodes[i]!;
      // The port may be briefly held by the dead process's sockets: try again for a while.
      for (let attempt = 0; ; attempt++) {
        try {
          node.proc = await spawnServer(args(node.port), { env, timeoutMs: 30_000 });
          node.restarts++;
          return;
        } catch (error) {
          if (attempt >= 20) throw error;
          await Bun.sleep(250);
        }
      }
    },
    async stop() {
      for (const n of nodes) await n.proc.stop("SIGKILL").catch(() => undefined);
      await redis.stop();
      await Promise.all([pg.stop(), s3.stop()]);
    },
  };
}
