import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { probeDisk } from "./atomic-file.ts";
import { FileBlobStore, putPageThenRecord, type BlobStore } from "./blob-store.ts";
import type { StoreName } from "./outage.ts";
import { DamagedPods, pageSha256, readCheckedPage } from "./damaged-pods.ts";
import { lockDataDir, type DataDirLock } from "./data-dir-lock.ts";
import { HitBatch } from "./hit-batch.ts";
import type { ManagedRegistry, OwnerUsage, PodPage, PodRecord } from "./types.ts";

export interface SqliteRegistryOptions {
  /** Holds `gemmapod.sqlite` and the `blobs/` directory. */
  dataDir: string;
  /** How often batched hit counts are written; default 2 s. */
  hitFlushMs?: number;
  /** Where pod pages go; default files in `<dataDir>/blobs`. */
  blobs?: BlobStore;
}

interface PodRow {
  id: string;
  name: string;
  owner_pubkey: string;
  manifest_size: number;
  blob_size: number;
  created_at: string;
  hits: number;
  blob_sha256: string | null;
}

/**
 * Persistent registry: records in SQLite (WAL), pages in a BlobStore (files by
 * default). A page is stored before its row is inserted, so a crash can leave
 * an orphan page but never a record without its page.
 */
export class SqliteRegistry implements ManagedRegistry {
  readonly name = "sqlite";
  readonly dataDir: string;
  readonly blobs: BlobStore;
  /** Shared with other stores (e.g. discovery) so one file holds all state. */
  readonly db: Database;
  private readonly statements: {
    insert: Statement;
    select: Statement<PodRow, [string]>;
    remove: Statement;
    addHits: Statement;
    tombstone: Statement;
    isTombstone: Statement;
    list: Statement<PodRow, [string, number]>;
    listOwner: Statement<PodRow, [string, string, number]>;
    usage: Statement<{ pods: number; bytes: number | null }, [string]>;
    idle: Statement<{ id: string }, [string]>;
    count: Statement<{ pods: number }, []>;
  };
  private readonly hits: HitBatch;
  private readonly damaged = new DamagedPods();
  private readonly lock: DataDirLock;
  /** Pods stored, counted once (a full scan) and then kept by this process's writes. */
  private podCount: number | undefined;

  constructor(options: SqliteRegistryOptions) {
    this.dataDir = resolve(options.dataDir);
    mkdirSync(this.dataDir, { recursive: true });
    // Throws DataDirInUseError while another server runs on this dir.
    this.lock = lockDataDir(this.dataDir);
    this.blobs = options.blobs ?? new FileBlobStore(join(this.dataDir, "blobs"));
    this.db = new Database(join(this.dataDir, "gemmapod.sqlite"), { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    this.db.exec(`CREATE TABLE IF NOT EXISTS pods (
      id            TEXT PRIMARY KEY,
      name          TEXT NOT NULL,
      owner_pubkey  TEXT NOT NULL,
      manifest_size INTEGER NOT NULL,
      blob_size     INTEGER NOT NULL,
      created_at    TEXT NOT NULL,
      hits          INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS pods_owner ON pods(owner_pubkey);
    CREATE TABLE IF NOT EXISTS pod_tombstones (id TEXT PRIMARY KEY, deleted_at TEXT NOT NULL);`);
    const columns = this.db.query<{ name: string }, []>("PRAGMA table_info(pods)").all();
    if (!columns.some((c) => c.name === "last_fetched_at")) this.db.exec("ALTER TABLE pods ADD COLUMN last_fetched_at TEXT");
    if (!columns.some((c) => c.name === "blob_sha256")) this.db.exec("ALTER TABLE pods ADD COLUMN blob_sha256 TEXT");
    this.statements = {
      insert: this.db.prepare(
        `INSERT INTO pods (id, name, owner_pubkey, manifest_size, blob_size, created_at, hits, blob_sha256)
         VALUES ($id, $name, $ownerPubkey, $manifestSize, $blobSize, $createdAt, $hits, $sha256)`,
      ),
      select: this.db.prepare<PodRow, [string]>("SELECT * FROM pods WHERE id = ?"),
      remove: this.db.prepare("DELETE FROM pods WHERE id = ?"),
      addHits: this.db.prepare("UPDATE pods SET hits = hits + ?, last_fetched_at = ? WHERE id = ?"),
      tombstone: this.db.prepare("INSERT OR REPLACE INTO pod_tombstones (id, deleted_at) VALUES (?, ?)"),
      isTombstone: this.db.prepare("SELECT 1 FROM pod_tombstones WHERE id = ?"),
      list: this.db.prepare<PodRow, [string, number]>("SELECT * FROM pods WHERE id > ? ORDER BY id LIMIT ?"),
      listOwner: this.db.prepare<PodRow, [string, string, number]>("SELECT * FROM pods WHERE owner_pubkey = ? AND id > ? ORDER BY id LIMIT ?"),
      usage: this.db.prepare<{ pods: number; bytes: number | null }, [string]>("SELECT COUNT(*) AS pods, SUM(blob_size) AS bytes FROM pods WHERE owner_pubkey = ?"),
      idle: this.db.prepare<{ id: string }, [string]>("SELECT id FROM pods WHERE COALESCE(last_fetched_at, created_at) < ?"),
      count: this.db.prepare<{ pods: number }, []>("SELECT COUNT(*) AS pods FROM pods"),
    };
    // A crash can leave temp files and pages without a row: neither is ever served.
    if (this.blobs instanceof FileBlobStore) {
      this.blobs.removeLeftovers((id) => this.statements.select.get(id) !== null);
      this.reportMissingPages(this.blobs);
    }
    this.hits = new HitBatch(options.hitFlushMs ?? 2000, (batch) => {
      const now = new Date().toISOString();
      this.db.transaction(() => {
        for (const [id, n] of batch) this.statements.addHits.run(n, now, id);
      })();
    });
  }

  putPod(record: PodRecord, blob: Uint8Array): Promise<void> {
    return putPageThenRecord(this.blobs, record.id, blob, () => {
      this.statements.insert.run({ ...record, sha256: pageSha256(blob) });
      if (this.podCount !== undefined) this.podCount++;
    });
  }

  async getRecord(id: string): Promise<PodRecord | null> {
    const row = this.statements.select.get(id);
    return row ? this.toRecord(row) : null;
  }

  /** The page as stored, checked against its record: a missing or altered one throws `PodDataError`. */
  async getBlob(id: string): Promise<Uint8Array | null> {
    const row = this.statements.select.get(id);
    if (!row) return null;
    return readCheckedPage(this.blobs, id, { size: row.blob_size, sha256: row.blob_sha256 }, this.damaged);
  }

  /** Pods found with a missing or damaged page since start-up (including those found at start-up). */
  damagedPods(): number {
    return this.damaged.count();
  }

  async countPods(): Promise<number> {
    this.podCount ??= this.statements.count.get()!.pods;
    return this.podCount;
  }

  async bumpHits(id: string): Promise<void> {
    this.hits.add(id);
  }

  /** Removes record then blob (a crash in between leaves only an orphan file, swept at start). */
  async deletePod(id: string): Promise<boolean> {
    this.hits.forget(id);
    const changes = this.db.transaction(() => {
      const { changes } = this.statements.remove.run(id);
      if (changes > 0) this.statements.tombstone.run(id, new Date().toISOString());
      return changes;
    })();
    if (changes > 0 && this.podCount !== undefined) this.podCount--;
    await this.blobs.delete(id).catch(() => undefined);
    this.damaged.forget(id);
    return changes > 0;
  }

  async isDeleted(id: string): Promise<boolean> {
    return this.statements.isTombstone.get(id) !== null;
  }

  async listPods(query: { owner?: string; limit: number; cursor?: string }): Promise<PodPage> {
    const after = query.cursor ?? "";
    const rows = query.owner === undefined ? this.statements.list.all(after, query.limit + 1) : this.statements.listOwner.all(query.owner, after, query.limit + 1);
    const pods = rows.slice(0, query.limit).map((row) => this.toRecord(row));
    return rows.length > query.limit ? { pods, nextCursor: pods.at(-1)!.id } : { pods };
  }

  async ownerUsage(ownerPubkey: string): Promise<OwnerUsage> {
    const row = this.statements.usage.get(ownerPubkey)!;
    return { pods: row.pods, bytes: row.bytes ?? 0 };
  }

  async idlePods(cutoff: Date): Promise<string[]> {
    this.flushHits();
    return this.statements.idle.all(cutoff.toISOString()).map((r) => r.id);
  }

  /** Writes batched hit counts now. */
  flushHits(): void {
    this.hits.flush().catch(() => undefined); // counts stay pending for the next flush
  }

  /** Records whose file is gone (deleted by hand, a lost volume) answer 500 until restored or deleted: say so at once. */
  private reportMissingPages(files: FileBlobStore): void {
    const ids = this.db.query<{ id: string }, []>("SELECT id FROM pods").all();
    const missing = ids.filter(({ id }) => !files.has(id)).map(({ id }) => id);
    for (const id of missing) this.damaged.addQuietly(id);
    if (missing.length === 0) return;
    const examples = missing.slice(0, 5).join(", ") + (missing.length > 5 ? ", …" : "");
    console.error(`[gemmapod-signal] ${missing.length} of ${ids.length} pod records lack their file in ${files.dir} (${examples}); they answer 500 until restored or deleted`);
  }

  private toRecord(row: PodRow): PodRecord {
    return {
      id: row.id,
      name: row.name,
      ownerPubkey: row.owner_pubkey,
      manifestSize: row.manifest_size,
      blobSize: row.blob_size,
      createdAt: row.created_at,
      hits: row.hits + this.hits.pendingFor(row.id),
    };
  }

  /** The data dir takes writes again (a full disk was freed); S3 answers. */
  probeStore(store: StoreName): Promise<void> {
    return store === "data-dir" ? probeDisk(this.dataDir) : this.blobs.probe();
  }

  async close(): Promise<void> {
    // On a full disk the last hit counts cannot be written: the lock must still be released.
    await this.hits.close().catch(() => undefined);
    this.db.close();
    this.lock.release();
  }
}
