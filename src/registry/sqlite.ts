import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";
import type { PodRecord, Registry } from "./types.ts";

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
export class SqliteRegistry implements Registry {
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
  };
  /** Hit counts are batched: one write per flush instead of one per request. */
  private pendingHits = new Map<string, number>();
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
    CREATE INDEX IF NOT EXISTS pods_owner ON pods(owner_pubkey);`);
    this.statements = {
      insert: this.db.prepare(
        `INSERT INTO pods (id, name, owner_pubkey, manifest_size, blob_size, created_at, hits)
         VALUES ($id, $name, $ownerPubkey, $manifestSize, $blobSize, $createdAt, $hits)`,
      ),
      select: this.db.prepare<PodRow, [string]>("SELECT * FROM pods WHERE id = ?"),
      remove: this.db.prepare("DELETE FROM pods WHERE id = ?"),
      addHits: this.db.prepare("UPDATE pods SET hits = hits + ? WHERE id = ?"),
    };
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
    } catch (error) {
      await unlink(this.blobPath(record.id)).catch(() => undefined);
      throw error;
    }
  }

  async getRecord(id: string): Promise<PodRecord | null> {
    const row = this.statements.select.get(id);
    if (!row) return null;
    return {
      id: row.id,
      name: row.name,
      ownerPubkey: row.owner_pubkey,
      manifestSize: row.manifest_size,
      blobSize: row.blob_size,
      createdAt: row.created_at,
      hits: row.hits + (this.pendingHits.get(id) ?? 0),
    };
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

  /** Removes record then blob (a crash in between leaves only an orphan file). */
  async deletePod(id: string): Promise<boolean> {
    this.pendingHits.delete(id);
    const { changes } = this.statements.remove.run(id);
    await unlink(this.blobPath(id)).catch(() => undefined);
    return changes > 0;
  }

  flushHits(): void {
    if (this.pendingHits.size === 0) return;
    const batch = this.pendingHits;
    this.pendingHits = new Map();
    this.db.transaction(() => {
      for (const [id, n] of batch) this.statements.addHits.run(n, id);
    })();
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    this.flushHits();
    this.db.close();
  }
}
