// Two nodes on one Postgres and one page store (S3 or files): what one stores,
// the other serves; what one deletes, the other answers 410 for. Postgres may
// restart under a running server without losing anything.
import { describe, expect, test } from "bun:test";
import { PostgresRegistry } from "../../src/registry/postgres.ts";
import { SqliteRegistry } from "../../src/registry/sqlite.ts";
import { buildPod } from "../helpers/pods.ts";
import { startServer, tempDir, type TestServer } from "../helpers/server.ts";
import { available, newSpot, s3BlobStore, storageServices, type StorageSpot } from "../helpers/storage.ts";
import { until } from "../helpers/until.ts";

const ADMIN = "admin-token-0123456789abcdef";
const pod = buildPod({ podId: "shared-storage-pod", name: "Shared" });
const services = await storageServices();

const upload = async (srv: TestServer) => (await fetch(`${srv.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } })).json();
const page = async (srv: TestServer, id: string) => {
  const res = await fetch(`${srv.url}/${id}`, { headers: { "Accept-Encoding": "identity" } });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
};

/** Two servers (nodes) on one spot; both closed after `body`. */
async function twoNodes(spot: StorageSpot, body: (a: TestServer, b: TestServer) => Promise<void>): Promise<void> {
  const a = startServer({ registry: await spot.open(), adminToken: ADMIN });
  const b = startServer({ registry: await spot.open(), adminToken: ADMIN });
  try {
    await body(a, b);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

for (const kind of ["postgres+s3", "postgres+files"] as const) {
  describe.skipIf(!available(kind, services))(`shared storage (${kind})`, () => {
    test("uploaded to one node, served byte-identical by another; deleted through it, 410 on the first", async () => {
      const spot = await newSpot(kind, services, { hitFlushMs: 50 });
      await twoNodes(spot, async (a, b) => {
        const { id } = await upload(a);
        expect(await page(a, id)).toEqual({ status: 200, bytes: pod.bytes });
        expect(await page(b, id)).toEqual({ status: 200, bytes: pod.bytes });
        const metaA = await (await fetch(`${a.url}/${id}/meta`)).json();
        expect(metaA).toMatchObject({ id, name: "Shared", ownerPubkey: pod.key.publicKey, blobSize: pod.bytes.byteLength });
        // Hits are batched per node and add up in the database.
        await page(b, id);
        await until("both nodes' hits are in the database", async () => (await (await fetch(`${a.url}/${id}/meta`)).json()).hits === 3);
        const listed = await (await fetch(`${b.url}/admin/pods?owner=${pod.key.publicKey}`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json();
        expect(listed.pods.map((p: { id: string }) => p.id)).toEqual([id]);

        expect((await fetch(`${b.url}/${id}`, { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
        // Node A had the page in its cache; the record check still makes it 410 at once.
        expect((await page(a, id)).status).toBe(410);
        expect((await fetch(`${a.url}/${id}/meta`)).status).toBe(410);
        expect(await spot.blobs!.stat(id)).toBeNull();
      });
    });

    test("a record that cannot be inserted takes its page away again", async () => {
      const spot = await newSpot(kind, services);
      const registry = await spot.open();
      try {
        const record = { id: "BADRECORD123", name: "n", ownerPubkey: "ab".repeat(32), manifestSize: 1, blobSize: 3, createdAt: "not a date", hits: 0 };
        await expect(registry.putPod(record, new Uint8Array([1, 2, 3]))).rejects.toThrow();
        expect(await spot.blobs!.stat(record.id)).toBeNull();
        expect(await registry.getRecord(record.id)).toBeNull();
        const good = { ...record, id: "GOODRECORD12", createdAt: new Date().toISOString() };
        await registry.putPod(good, new Uint8Array([1, 2, 3]));
        expect(await spot.blobs!.stat(good.id)).toEqual({ size: 3 });
        expect(await registry.getBlob(good.id)).toEqual(new Uint8Array([1, 2, 3]));
      } finally {
        await registry.close?.();
      }
    });

    test("a Rondevu offer made on one node is answered on another and polled on the first", async () => {
      await twoNodes(await newSpot(kind, services), async (a, b) => {
        const post = (srv: TestServer, path: string, body: unknown) =>
          fetch(`${srv.url}/rondevu${path}`, { method: "POST", headers: { "Content-Type": "application/json", Origin: "https://app.example" }, body: JSON.stringify(body) }).then((r) => r.json());
        const { code } = await post(a, "/chat/offer", { info: "i", offer: "o" });
        expect(await post(b, "/answer", { code, side: "answerer", answer: "ans" })).toEqual({ success: true });
        await post(b, "/answer", { code, side: "answerer", candidate: "c1" });
        expect(await post(b, "/answer", { code, side: "answerer", answer: "other" })).toEqual({ error: "Session already answered" });
        // Waking a long poll on another node is the cluster's routing; the data is shared already.
        expect(await post(a, "/poll", { code, side: "offerer", since: 0 })).toEqual({ answer: "ans", answerCandidates: ["c1"], candidateCount: 1 });
      });
    });
  });
}

describe.skipIf(!services.s3)("sqlite with pages in S3", () => {
  test("pages go to the bucket, survive a restart, and leave it with their pod", async () => {
    const dir = tempDir();
    const blobs = s3BlobStore(services.s3!);
    const first = new SqliteRegistry({ dataDir: dir, blobs });
    const srv = startServer({ registry: first, adminToken: ADMIN });
    const { id } = await upload(srv);
    await srv.close();
    expect(await blobs.stat(id)).toEqual({ size: pod.bytes.byteLength });
    const again = startServer({ registry: new SqliteRegistry({ dataDir: dir, blobs }), adminToken: ADMIN });
    try {
      expect(await page(again, id)).toEqual({ status: 200, bytes: pod.bytes });
      expect((await fetch(`${again.url}/${id}`, { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
      expect(await blobs.stat(id)).toBeNull();
    } finally {
      await again.close();
    }
  });
});

describe.skipIf(!available("postgres+files", services))("the connection pool", () => {
  test("stays within its bound while a burst of 60 concurrent requests all succeed", async () => {
    const spot = await newSpot("postgres+files", services);
    const registry = await PostgresRegistry.open({ url: spot.url!, blobs: spot.blobs!, poolSize: 2 });
    const srv = startServer({ registry });
    const watcher = new Bun.SQL(spot.url!, { max: 1 });
    try {
      const { id } = await upload(srv);
      let most = 0;
      const watching = (async () => {
        for (let i = 0; i < 20; i++) {
          const [{ n }] = await watcher`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
          most = Math.max(most, n);
          await Bun.sleep(10);
        }
      })();
      const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => fetch(`${srv.url}/${id}${i % 2 ? "/meta" : ""}`).then((r) => r.status)));
      await watching;
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(2);
    } finally {
      await watcher.close();
      await srv.close();
    }
  });
});

describe.skipIf(!available("postgres+s3", services))("Postgres restarting under a running server", () => {
  test("nothing is lost and the server recovers without a restart of its own", async () => {
    const spot = await newSpot("postgres+s3", services, { hitFlushMs: 100 });
    const srv = startServer({ registry: await spot.open() });
    let hits = 0;
    const counted = async (id: string) => {
      const served = await page(srv, id);
      if (served.status === 200) hits++;
      return served;
    };
    try {
      const { id } = await upload(srv);
      for (let i = 0; i < 3; i++) await counted(id); // pending in the hit batch when Postgres goes down
      await services.pg!.restart(async () => {
        // Down: a JSON 503 with Retry-After naming Postgres (the cached page itself is still served).
        const res = await fetch(`${srv.url}/${id}/meta`);
        expect(res.status).toBe(503);
        expect(res.headers.get("retry-after")).toBe("1");
        expect(await res.json()).toMatchObject({ error: expect.stringMatching(/storage is unreachable/), store: "postgres" });
        await Bun.sleep(300); // a hit flush fails meanwhile; its counts wait for the next one
      });
      // Back: the pool reconnects by itself (a connection cut by the restart may fail once more).
      const deadline = Date.now() + 10_000;
      let served = await counted(id);
      while (served.status !== 200 && Date.now() < deadline) {
        expect(served.status).toBe(503);
        await Bun.sleep(100);
        served = await counted(id);
      }
      expect(served).toEqual({ status: 200, bytes: pod.bytes });
      const second = await upload(srv);
      expect((await page(srv, second.id)).bytes).toEqual(pod.bytes);
      const fresh = await spot.open();
      try {
        // Every counted hit reaches the database, the ones held through the outage too.
        await until("the hits are flushed", async () => (await fresh.getRecord(id))!.hits >= hits);
        expect((await fresh.getRecord(id))!.hits).toBe(hits);
        expect((await fresh.listPods({ limit: 10 })).pods.map((p) => p.id).sort()).toEqual([id, second.id].sort());
      } finally {
        await fresh.close?.();
      }
    } finally {
      await srv.close();
    }
  });
});
