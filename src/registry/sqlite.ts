import { Database, type Statement } from "bun:sqlite";
import { mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { TEMP_PREFIX, writeFileAtomic } from "./atomic-file.ts";
import type { ManagedRegistry, OwnerUsage, PodPage, PodRecord } from "./types.ts";

export interface SqliteRegistryOptions {
  /** Holds `gemmapod.sqlite` and the `blobs/` directory. */
  dataDir: string;
  /** How often batched hit counts are written; default 2 s. */
  hitFlushMs?: number;
}

interface PodRow {
  id: string;
  name: string;
  owner_pubkey: string;
  manifest_size: number;
  blob_size: number;
  created_at: string;
  hits: number;
}

/**
 * Persistent registry: records in SQLite (WAL), blobs as files. A blob is written
 * and renamed into place before its row is inserted, so a crash can leave an
 * orphan file but never a record without its blob.
 */
export class SqliteRegistry implements ManagedRegistry {
  readonly name = "sqlite";
  readonly dataDir: string;
  readonly blobDir: string;
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
  /** Hit counts are batched: one write per flush instead of one per request. */
  private pendingHits = new Map<string, number>();
  /** Pods stored, counted once (a full scan) and then kept by this process's writes. */
  private podCount: number | undefined;
  private readonly flushTimer: Timer;

  constructor(options: SqliteRegistryOptions) {
    this.dataDir = resolve(options.dataDir);
    this.blobDir = join(this.dataDir, "blobs");
    mkdirSync(this.blobDir, { recursive: true });
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
    this.statements = {
      insert: this.db.prepare(
        `INSERT INTO pods (id, name, owner_pubkey, manifest_size, blob_size, created_at, hits)
         VALUES ($id, $name, $ownerPubkey, $manifestSize, $blobSize, $createdAt, $hits)`,
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
    this.removeCrashLeftovers();
    this.flushTimer = setInterval(() => this.flushHits(), options.hitFlushMs ?? 2000);
    this.flushTimer.unref();
  }

  blobPath(id: string): string {
    return join(this.blobDir, `${id}.html`);
  }

  async putPod(record: PodRecord, blob: Uint8Array): Promise<void> {
    await writeFileAtomic(this.blobPath(record.id), blob);
    try {
      this.statements.insert.run({ ...record });
      if (this.podCount !== undefined) this.podCount++;
    } catch (error) {
      await unlink(this.blobPath(record.id)).catch(() => undefined);
      throw error;
    }
  }

  async getRecord(id: string): Promise<PodRecord | null> {
    const row = this.statements.select.get(id);
    return row ? this.toRecord(row) : null;
  }

  async getBlob(id: string): Promise<Uint8Array | null> {
    const file = Bun.file(this.blobPath(id));
    try {
      return await file.bytes();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async bumpHits(id: string): Promise<void> {
    this.pendingHits.set(id, (this.pendingHits.get(id) ?? 0) + 1);
  }

  async countPods(): Promise<number> {
    this.podCount ??= this.statements.count.get()!.pods;
    return this.podCount;
  }

  /** Removes record then blob (a crash in between leaves only an orphan file, swept at start). */
  async deletePod(id: string): Promise<boolean> {
    this.pendingHits.delete(id);
    const changes = this.db.transaction(() => {
      const { changes } = this.statements.remove.run(id);
      if (changes > 0) this.statements.tombstone.run(id, new Date().toISOString());
      return changes;
    })();
    if (changes > 0 && this.podCount !== undefined) this.podCount--;
    await unlink(this.blobPath(id)).catch(() => undefined);
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

  flushHits(): void {
    if (this.pendingHits.size === 0) return;
    const batch = this.pendingHits;
    this.pendingHits = new Map();
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const [id, n] of batch) this.statements.addHits.run(n, now, id);
    })();
  }

  /**
   * A crash can leave temp files (mid-write) and blobs without a row (renamed,
   * not yet inserted, or deleted row first): neither is ever served, so both go.
   */
  private removeCrashLeftovers(): void {
    for (const name of readdirSync(this.blobDir)) {
      const orphan = name.endsWith(".html") && this.statements.select.get(name.slice(0, -5)) === null;
      if (name.startsWith(TEMP_PREFIX) || orphan) unlinkSync(join(this.blobDir, name));
    }
  }

  private toRecord(row: PodRow): PodRecord {
    return {
      id: row.id,
      name: row.name,
      ownerPubkey: row.owner_pubkey,
      manifestSize: row.manifest_size,
      blobSize: row.blob_size,
      createdAt: row.created_at,
      hits: row.hits + (this.pendingHits.get(row.id) ?? 0),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    this.flushHits();
    this.db.close();
  }
}
