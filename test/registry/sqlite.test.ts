import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { SqliteRegistry } from "../../src/registry/sqlite.ts";
import type { PodRecord } from "../../src/registry/types.ts";
import { spawnServer } from "../helpers/cli.ts";
import { buildPod } from "../helpers/pods.ts";
import { tempDir } from "../helpers/server.ts";

const record = (id: string): PodRecord => ({ id, name: "n", ownerPubkey: "ab".repeat(32), manifestSize: 10, blobSize: 3, createdAt: "2026-01-02T03:04:05.000Z", hits: 0 });

describe("SqliteRegistry", () => {
  test("stores, reads, counts hits in batches, and deletes", async () => {
    const dir = tempDir();
    const reg = new SqliteRegistry({ dataDir: dir, hitFlushMs: 60_000 });
    await reg.putPod(record("AAAAAAAAAAAA"), new Uint8Array([1, 2, 3]));
    expect(await reg.getRecord("AAAAAAAAAAAA")).toEqual(record("AAAAAAAAAAAA") as any);
    expect(await reg.getBlob("AAAAAAAAAAAA")).toEqual(new Uint8Array([1, 2, 3]));
    expect(await reg.getRecord("BBBBBBBBBBBB")).toBeNull();
    expect(await reg.getBlob("BBBBBBBBBBBB")).toBeNull();

    for (let i = 0; i < 5; i++) await reg.bumpHits("AAAAAAAAAAAA");
    expect((await reg.getRecord("AAAAAAAAAAAA"))!.hits).toBe(5);
    // Not yet written: counts are batched in memory...
    const peek = new Database(join(dir, "gemmapod.sqlite"), { readonly: true });
    expect(peek.query("SELECT hits FROM pods").get()).toEqual({ hits: 0 });
    reg.flushHits();
    expect(peek.query("SELECT hits FROM pods").get()).toEqual({ hits: 5 });
    peek.close();

    expect(await reg.deletePod("AAAAAAAAAAAA")).toBe(true);
    expect(await reg.getRecord("AAAAAAAAAAAA")).toBeNull();
    expect(readdirSync(join(dir, "blobs"))).toEqual([]);
    await reg.close();
  });

  test("uses WAL and leaves no temp files behind", async () => {
    const dir = tempDir();
    const reg = new SqliteRegistry({ dataDir: dir });
    await reg.putPod(record("CCCCCCCCCCCC"), new Uint8Array(100_000).fill(7));
    expect(reg.db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(readdirSync(join(dir, "blobs"))).toEqual(["CCCCCCCCCCCC.html"]);
    await reg.close();
  });

  test("counts its pods with one scan, then follows its own writes", async () => {
    const dir = tempDir();
    const reg = new SqliteRegistry({ dataDir: dir });
    await reg.putPod(record("FFFFFFFFFFFA"), new Uint8Array([1]));
    expect(await reg.countPods()).toBe(1);
    await reg.putPod(record("FFFFFFFFFFFB"), new Uint8Array([2]));
    await expect(reg.putPod(record("FFFFFFFFFFFB"), new Uint8Array([2]))).rejects.toThrow();
    expect(await reg.countPods()).toBe(2);
    expect(await reg.deletePod("FFFFFFFFFFFA")).toBe(true);
    expect(await reg.deletePod("FFFFFFFFFFFA")).toBe(false);
    expect(await reg.countPods()).toBe(1);
    await reg.close();
    const reopened = new SqliteRegistry({ dataDir: dir });
    expect(await reopened.countPods()).toBe(1);
    await reopened.close();
  });

  test("a failed insert leaves neither row nor blob", async () => {
    const dir = tempDir();
    const reg = new SqliteRegistry({ dataDir: dir });
    await reg.putPod(record("DDDDDDDDDDDD"), new Uint8Array([1]));
    await expect(reg.putPod({ ...record("EEEEEEEEEEEE"), name: null as any }, new Uint8Array([2]))).rejects.toThrow();
    expect(await reg.getRecord("EEEEEEEEEEEE")).toBeNull();
    expect(readdirSync(join(dir, "blobs"))).toEqual(["DDDDDDDDDDDD.html"]);
    await reg.close();
  });
});

test("pods survive a server restart with the sqlite registry", async () => {
  const dir = tempDir();
  const pod = buildPod({ podId: "persist-pod", name: "Persistent" });
  const first = await spawnServer(["--registry", "sqlite", "--data-dir", dir]);
  const uploaded = await (await fetch(`${first.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } })).json();
  await (await fetch(`${first.url}/${uploaded.id}`)).arrayBuffer();
  expect(await first.stop("SIGTERM")).toBe(0);

  const second = await spawnServer(["--registry", "sqlite", "--data-dir", dir]);
  try {
    const page = await fetch(`${second.url}/${uploaded.id}`);
    expect(page.status).toBe(200);
    expect(new Uint8Array(await page.arrayBuffer())).toEqual(pod.bytes);
    const meta = await (await fetch(`${second.url}/${uploaded.id}/meta`)).json();
    // The hit from before the restart was flushed at shutdown; this one is pending.
    expect(meta).toMatchObject({ id: uploaded.id, name: "Persistent", ownerPubkey: pod.key.publicKey, blobSize: pod.bytes.byteLength, hits: 2 });
    expect((await (await fetch(`${second.url}/health`)).json()).registry).toBe("sqlite");
  } finally {
    expect(await second.stop("SIGINT")).toBe(0);
  }
  const db = new Database(join(dir, "gemmapod.sqlite"), { readonly: true });
  expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
  db.close();
});
