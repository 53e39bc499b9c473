// SIGKILL a server on Postgres + S3 in the middle of concurrent uploads, start
// it again: every record has its page in the bucket, byte-identical.
import { expect, test } from "bun:test";
import { PostgresRegistry } from "../../src/registry/postgres.ts";
import { killMidUpload } from "../helpers/crash.ts";
import { spawnServer } from "../helpers/cli.ts";
import { buildPod } from "../helpers/pods.ts";
import { available, s3BlobStore, storageServices } from "../helpers/storage.ts";

const services = await storageServices();
const pods = [buildPod({ podId: "crash-shared-a" }), buildPod({ podId: "crash-shared-b" })];

test.skipIf(!available("postgres+s3", services))("uploads interrupted by SIGKILL leave no record without its page (Postgres + S3)", async () => {
  const { pg, s3 } = services;
  const url = await pg!.freshDatabase();
  const location = s3!.freshLocation();
  const args = ["--registry", "postgres", "--database-url", url, "--blob-store", location, "--s3-endpoint", s3!.url, "--upload-rate", "1000000"];
  const env = { AWS_ACCESS_KEY_ID: s3!.accessKeyId, AWS_SECRET_ACCESS_KEY: s3!.secretAccessKey, AWS_REGION: "us-east-1" };
  let acknowledged = 0;
  for (const killAfterMs of [0, 60]) {
    const server = await spawnServer(args, { env });
    acknowledged += await killMidUpload(server, pods, { uploaders: 4, killAfterMs, waitForFirst: true });
  }

  const registry = await PostgresRegistry.open({ url, blobs: s3BlobStore(s3!, location) });
  try {
    const { pods: records } = await registry.listPods({ limit: 10_000 });
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeGreaterThanOrEqual(acknowledged);
    for (const record of records) {
      const original = pods.find((p) => p.key.publicKey === record.ownerPubkey)!;
      expect(await registry.getBlob(record.id)).toEqual(original.bytes);
    }
  } finally {
    await registry.close();
  }
});
