// Each store stopped under a running server and started again (real Postgres, real s3rver,
// a real full disk): requests that need it answer 503 (507 for a full disk) naming it, the
// rest keeps working (cached pods, signaling, rooms), /health names it and since when, one
// log line and a metric per outage; the node serves again by itself and nothing is lost.
import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Logger } from "../../src/log/logger.ts";
import { SqliteRegistry } from "../../src/registry/sqlite.ts";
import { buildPod } from "../helpers/pods.ts";
import { scrape, value } from "../helpers/metrics.ts";
import { startServer, tempDir, type TestServer } from "../helpers/server.ts";
import { available, newSpot, storageServices } from "../helpers/storage.ts";

const services = await storageServices();
const pods = [0, 1, 2, 3].map((i) => buildPod({ podId: `outage-pod-${i}`, name: `Outage ${i}` }));

const upload = (srv: TestServer, i = 0) => fetch(`${srv.url}/pods`, { method: "POST", body: pods[i]!.bytes, headers: { "Content-Type": "text/html" } });
const page = async (srv: TestServer, id: string) => {
  const res = await fetch(`${srv.url}/${id}`, { headers: { "Accept-Encoding": "identity" } });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
};
const health = async (srv: TestServer) => {
  const res = await fetch(`${srv.url}/health`);
  return { status: res.status, ...(await res.json()) } as { status: number; ok: boolean; storesAway: { store: string; since: string; full?: true }[] };
};

/** A server whose log lines are kept. */
function logged(options: Parameters<typeof startServer>[0]) {
  const lines: string[] = [];
  const srv = startServer({ ...options, logger: new Logger({ level: "info", format: "json", write: (line) => lines.push(line) }) });
  const messages = (msg: string) => lines.map((l) => JSON.parse(l)).filter((l) => l.msg === msg);
  return { srv, messages };
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v).slice(0, 300)}`);
    await Bun.sleep(100);
  }
}

/** Signaling works: an origin registers on /signal. */
async function signalingWorks(srv: TestServer): Promise<boolean> {
  const ws = new WebSocket(srv.wsUrl);
  const got = new Promise<string>((resolve) => {
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data));
      if (m.t === "registered" || m.t === "error") resolve(m.t);
    };
  });
  await new Promise((r) => (ws.onopen = r));
  ws.send(JSON.stringify({ t: "register", podId: `outage-origin-${Math.random().toString(36).slice(2)}` }));
  const answer = await Promise.race([got, Bun.sleep(3000).then(() => "timeout")]);
  ws.close();
  return answer === "registered";
}

async function expectAway(res: Response, status: number, store: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get("retry-after")).not.toBeNull();
  const body = await res.json();
  expect(body.store).toBe(store);
  expect(body.error).toContain(store === "s3" ? "S3" : store === "postgres" ? "Postgres" : "disk");
}

describe.skipIf(!available("postgres+s3", services))("a store stopped under running nodes", () => {
  test("S3 away: pages not cached and uploads answer 503 naming S3; cached pods, signaling and /health go on; back by itself", async () => {
    const spot = await newSpot("postgres+s3", services, { hitFlushMs: 100 });
    const { srv, messages } = logged({ registry: await spot.open() });
    const other = startServer({ registry: await spot.open() });
    try {
      const cached = (await (await upload(srv, 0)).json()).id;
      // Uploaded through the other node: this one has never cached it.
      const uncached = (await (await upload(other, 1)).json()).id;
      await services.s3!.restart(async () => {
        await expectAway(await upload(srv, 2), 503, "s3");
        await expectAway(await fetch(`${srv.url}/${uncached}`), 503, "s3");
        expect(await page(srv, cached)).toEqual({ status: 200, bytes: pods[0]!.bytes });
        expect((await fetch(`${srv.url}/${uncached}/meta`)).status).toBe(200);
        expect(await signalingWorks(srv)).toBe(true);
        const h = await health(srv);
        expect(h.status).toBe(200);
        expect(h.ok).toBe(true);
        expect(h.storesAway).toEqual([{ store: "s3", since: expect.any(String) }]);
        expect(Date.now() - Date.parse(h.storesAway[0]!.since)).toBeLessThan(10_000);
        expect(value(await scrape(srv.url), 'gemmapod_signal_storage_away{store="s3"}')).toBe(1);
        await upload(srv, 3); // a second failure: still one outage
        expect(messages("storage unreachable")).toEqual([expect.objectContaining({ level: "warn", store: "s3" })]);
      });
      await until("s3 back on /health", () => health(srv), (h) => h.storesAway.length === 0);
      expect(messages("storage back")).toEqual([expect.objectContaining({ store: "s3" })]);
      expect(value(await scrape(srv.url), 'gemmapod_signal_storage_away{store="s3"}')).toBe(0);
      expect(value(await scrape(srv.url), 'gemmapod_signal_storage_outages_total{store="s3"}')).toBe(1);
      expect(await page(srv, uncached)).toEqual({ status: 200, bytes: pods[1]!.bytes });
      const after = await upload(srv, 2);
      expect(after.status).toBe(200);
      expect(await page(other, (await after.json()).id)).toEqual({ status: 200, bytes: pods[2]!.bytes });
      expect(await page(other, cached)).toEqual({ status: 200, bytes: pods[0]!.bytes });
    } finally {
      await Promise.all([srv.close(), other.close()]);
    }
  });

  test("Postgres away: records and uploads answer 503 naming Postgres; cached pods, signaling, rooms and /health go on; back by itself, hits kept", async () => {
    const spot = await newSpot("postgres+s3", services, { hitFlushMs: 100 });
    const { srv, messages } = logged({ registry: await spot.open() });
    try {
      const id = (await (await upload(srv, 0)).json()).id;
      await services.pg!.restart(async () => {
        await expectAway(await upload(srv, 1), 503, "postgres");
        await expectAway(await fetch(`${srv.url}/${id}/meta`), 503, "postgres");
        // The page is cached: it is served as it was (nothing can be deleted while Postgres is away).
        for (let i = 0; i < 3; i++) expect(await page(srv, id)).toEqual({ status: 200, bytes: pods[0]!.bytes });
        expect(await signalingWorks(srv)).toBe(true);
        const room = new WebSocket(`${srv.url.replace(/^http/, "ws")}/.webrtc?room=outage`);
        const challenge = await new Promise<any>((r) => (room.onmessage = (e) => r(JSON.parse(String(e.data)))));
        expect(challenge.type).toBe("challenge");
        room.close();
        const h = await health(srv);
        expect(h.status).toBe(200);
        expect(h.storesAway).toEqual([{ store: "postgres", since: expect.any(String) }]);
        expect(messages("storage unreachable")).toEqual([expect.objectContaining({ store: "postgres" })]);
        await Bun.sleep(300); // a hit flush fails meanwhile; its counts wait for the next one
      });
      await until("postgres back on /health", () => health(srv), (h) => h.storesAway.length === 0);
      expect(messages("storage back")).toEqual([expect.objectContaining({ store: "postgres" })]);
      const second = await until("upload after postgres is back", () => upload(srv, 1), (r) => r.status === 200);
      const secondId = (await second.json()).id;
      await Bun.sleep(400);
      const fresh = await spot.open();
      try {
        expect((await fresh.getRecord(id))!.hits).toBe(3);
        expect((await fresh.listPods({ limit: 10 })).pods.map((p) => p.id).sort()).toEqual([id, secondId].sort());
      } finally {
        await fresh.close?.();
      }
    } finally {
      await srv.close();
    }
  });
});

/** A small tmpfs (root only): the disk that fills. */
function smallDisk(bytes: number): { dir: string; release(): void } | null {
  if (process.getuid?.() !== 0) return null;
  const dir = tempDir("gemmapod-full-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir]);
  } catch {
    return null;
  }
  return { dir, release: () => (execFileSync("umount", ["-l", dir]), rmSync(dir, { recursive: true, force: true })) };
}

const disk = smallDisk(3 * 1024 * 1024);
afterAll(() => disk?.release());
if (!disk) console.warn("skip: the full-disk test needs root (mount -t tmpfs)");

describe.skipIf(!disk)("the SQLite data dir's disk full", () => {
  test("uploads answer 507 naming the disk, pods stored before are served, and it recovers once space is freed", async () => {
    const dataDir = join(disk!.dir, "data");
    mkdirSync(dataDir);
    // No page cache: every read comes from the full disk.
    const { srv, messages } = logged({ registry: new SqliteRegistry({ dataDir, hitFlushMs: 100 }), podCacheBytes: 0 });
    try {
      const stored = (await (await upload(srv, 0)).json()).id;
      // Fill the disk to the last byte with a file the test can remove.
      const filler = join(disk!.dir, "filler");
      try {
        writeFileSync(filler, new Uint8Array(4 * 1024 * 1024));
      } catch {}
      expect(existsSync(filler)).toBe(true);
      await expectAway(await upload(srv, 1), 507, "data-dir");
      expect(await page(srv, stored)).toEqual({ status: 200, bytes: pods[0]!.bytes });
      const h = await health(srv);
      expect(h.status).toBe(200);
      expect(h.storesAway).toEqual([{ store: "data-dir", since: expect.any(String), full: true }]);
      expect(messages("storage full")).toEqual([expect.objectContaining({ level: "warn", store: "data-dir" })]);
      rmSync(filler);
      await until("data dir back on /health", () => health(srv), (h) => h.storesAway.length === 0);
      const after = await upload(srv, 1);
      expect(after.status).toBe(200);
      const afterId = (await after.json()).id;
      expect(await page(srv, afterId)).toEqual({ status: 200, bytes: pods[1]!.bytes });
      expect(await page(srv, stored)).toEqual({ status: 200, bytes: pods[0]!.bytes });
    } finally {
      await srv.close();
    }
  });
});
