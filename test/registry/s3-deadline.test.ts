// A bucket that takes the connection and never answers must not hold a request forever:
// every S3 call fails as "S3 away" (503 naming S3) after its deadline.
import { afterAll, expect, test } from "bun:test";
import { StoreUnavailableError } from "../../src/registry/outage.ts";
import { S3BlobStore } from "../../src/registry/s3-blob-store.ts";

const held: { end(): void }[] = [];
const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (s) => void held.push(s), data() {} } });
afterAll(() => {
  for (const s of held) s.end();
  silent.stop(true);
});

const store = new S3BlobStore({ bucket: "pods", prefix: "", endpoint: `http://127.0.0.1:${silent.port}`, accessKeyId: "k", secretAccessKey: "s", region: "us-east-1", deadlineMs: 1000 });

test.each([
  ["get", () => store.get("abc")],
  ["stat", () => store.stat("abc")],
  ["delete", () => store.delete("abc")],
  ["put", () => store.put("abc", new Uint8Array(1000))],
] as const)("%s against a bucket that never answers fails as S3 away after its deadline", async (_, call) => {
  const started = performance.now();
  const error = await call().then(
    () => null,
    (e: unknown) => e,
  );
  const ms = performance.now() - started;
  expect(error).toBeInstanceOf(StoreUnavailableError);
  expect((error as StoreUnavailableError).store).toBe("s3");
  // 1 s deadline (an upload of under 1 MiB gets 1 s more); generous above for a loaded machine.
  expect(ms).toBeGreaterThanOrEqual(950);
  expect(ms).toBeLessThan(10_000);
});
