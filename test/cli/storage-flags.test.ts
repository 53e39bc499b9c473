// The shared-storage flags: parsing, the combinations refused at start, and two
// real server processes on one Postgres and one S3 bucket.
import { describe, expect, test } from "bun:test";
import { DEFAULT_CONFIG, parseArgs } from "../../src/config.ts";
import { CLI, spawnServer } from "../helpers/cli.ts";
import { buildPod } from "../helpers/pods.ts";
import { available, storageServices } from "../helpers/storage.ts";

const run = (args: string[], env: Record<string, string> = {}) => {
  const p = Bun.spawnSync([process.execPath, CLI, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, err: p.stderr.toString() };
};
const PG = "postgres://u:p@db.internal:5432/gemmapod";

describe("storage flags", () => {
  test("postgres, S3 and cluster settings from flags and env", () => {
    expect(parseArgs(["--registry", "postgres"], { DATABASE_URL: PG })).toEqual({ kind: "serve", config: { ...DEFAULT_CONFIG, registry: "postgres", databaseUrl: PG } });
    const cmd = parseArgs(["--blob-store", "s3://gemmapod-pods/prod/pages", "--s3-endpoint", "http://minio:9000", "--database-pool", "4"], {
      GEMMAPOD_SIGNAL_REGISTRY: "postgres",
      GEMMAPOD_SIGNAL_DATABASE_URL: PG,
      DATABASE_URL: "postgres://ignored@x/y",
      GEMMAPOD_SIGNAL_CLUSTER: "redis://redis:6379",
    });
    expect(cmd).toMatchObject({ config: { databaseUrl: PG, blobStore: "s3://gemmapod-pods/prod/pages", s3Endpoint: "http://minio:9000", databasePoolSize: 4, cluster: "redis://redis:6379" } });
  });

  test("a DATABASE_URL meant for another program stops only --registry postgres, and is never echoed", () => {
    expect(parseArgs([], { DATABASE_URL: "mysql://root:hunter2@x/y" })).toMatchObject({ kind: "serve", config: { registry: "memory" } });
    const { code, err } = run(["--registry", "postgres"], { DATABASE_URL: "mysql://root:hunter2@x/y" });
    expect(code).toBe(2);
    expect(err).toContain("invalid --database-url (or DATABASE_URL): expected a postgres:// URL");
    expect(err).not.toContain("hunter2");
  });

  test.each([
    [["--registry", "postgres"], "--registry postgres needs --database-url"],
    [["--registry", "postgres", "--database-url", "mysql://x/y"], "expected a postgres:// URL"],
    [["--registry", "sqlite", "--blob-store", "s3://UPPER"], "expected s3://<bucket>[/prefix]"],
    [["--blob-store", "s3://pods"], "--blob-store needs --registry sqlite or postgres"],
    [["--cluster", "http://redis:6379"], "expected a redis:// URL"],
    [["--cluster", "redis://redis:6379"], "--cluster needs --registry postgres: the memory registry keeps its records on this node only"],
    [["--cluster", "redis://redis:6379", "--registry", "sqlite"], "--cluster needs --registry postgres: the sqlite registry"],
    [["--cluster", "redis://redis:6379", "--registry", "postgres", "--database-url", PG], "--cluster needs --blob-store s3://"],
  ])("refused at start with exit 2 and one line: %p", (args, reason) => {
    const { code, err } = run(args);
    expect(code).toBe(2);
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toContain(reason);
  });

  test("an unreachable database: exit 1 with one line naming the registry", () => {
    const { code, err } = run(["--registry", "postgres", "--database-url", "postgres://postgres@127.0.0.1:1/none", "--port", "0"]);
    expect(code).toBe(1);
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toContain("cannot open the postgres registry");
  });
});

const services = await storageServices();

describe.skipIf(!available("postgres+s3", services))("two server processes on one Postgres and one bucket", () => {
  test("uploaded to one, byte-identical from the other; deleted through the other, 410 on the first", async () => {
    const { pg, s3 } = services;
    const admin = "admin-token-0123456789abcdef";
    const args = ["--registry", "postgres", "--database-url", await pg!.freshDatabase(), "--blob-store", s3!.freshLocation(), "--s3-endpoint", s3!.url, "--admin-token", admin];
    const env = { AWS_ACCESS_KEY_ID: s3!.accessKeyId, AWS_SECRET_ACCESS_KEY: s3!.secretAccessKey, AWS_REGION: "us-east-1" };
    // Started together: the schema migration is serialized between them.
    const [a, b] = await Promise.all([spawnServer(args, { env }), spawnServer(args, { env })]);
    try {
      expect((await (await fetch(`${a.url}/health`)).json()).registry).toBe("postgres");
      const pod = buildPod({ podId: "two-processes" });
      const { id } = await (await fetch(`${a.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } })).json();
      const served = await fetch(`${b.url}/${id}`, { headers: { "Accept-Encoding": "identity" } });
      expect(served.status).toBe(200);
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(pod.bytes);
      expect((await fetch(`${b.url}/${id}`, { method: "DELETE", headers: { Authorization: `Bearer ${admin}` } })).status).toBe(200);
      expect((await fetch(`${a.url}/${id}`)).status).toBe(410);
    } finally {
      expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0]);
    }
  });
});
