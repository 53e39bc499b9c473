import { SQL } from "bun";
import { putPageThenRecord, type BlobStore } from "./blob-store.ts";
import { DamagedPods, pageSha256, readCheckedPage } from "./damaged-pods.ts";
import { HitBatch } from "./hit-batch.ts";
import type { StoreName } from "./outage.ts";
import { migrate } from "./postgres-schema.ts";
import type { ManagedRegistry, OwnerUsage, PodPage, PodRecord } from "./types.ts";

export interface PostgresRegistryOptions {
  /** `postgres://user:pass@host:port/db` */
  url: string;
  /** Where pod pages go: S3 for a cluster, files for one node. */
  blobs: BlobStore;
  /** Most connections this node opens; default 10. */
  poolSize?: number;
  /** How often batched hit counts are written; default 2 s. */
  hitFlushMs?: number;
}

interface PodRow {
  id: string;
  name: string;
  owner_pubkey: string;
  manifest_size: string;
  blob_size: string;
  created_at: Date;
  hits: string;
  blob_sha256: string | null;
}

/**
 * Records, tombstones, owner bindings, Rondevu sessions and tunnel names in
 * Postgres; pages in a BlobStore. Several nodes may share one database: every
 * write is a single atomic statement or transaction, nothing is cached here.
 */
export class PostgresRegistry implements ManagedRegistry {
  readonly name = "postgres";
  private readonly hits: HitBatch;
  private readonly damaged = new DamagedPods();

  /** Connects and brings the schema up to date before anything is served. */
  static async open(options: PostgresRegistryOptions): Promise<PostgresRegistry> {
    const sql = new SQL({ url: options.url, max: options.poolSize ?? 10, idleTimeout: 60, connectionTimeout: 10 });
    try {
      await migrate(sql);
    } catch (error) {
      await sql.close();
      throw error;
    }
    return new PostgresRegistry(sql, options.blobs, options.hitFlushMs ?? 2000);
  }

  private constructor(
    /** Shared with the other Postgres stores (bindings, Rondevu, tunnel names). */
    readonly sql: SQL,
    readonly blobs: BlobStore,
    hitFlushMs: number,
  ) {
    this.hits = new HitBatch(hitFlushMs, async (batch) => {
      const rows = JSON.stringify([...batch].map(([id, n]) => ({ id, n })));
      await this.sql`UPDATE pods SET hits = pods.hits + b.n, last_fetched_at = now()
        FROM jsonb_to_recordset(${rows}::text::jsonb) AS b(id text, n bigint) WHERE pods.id = b.id`;
    });
  }

  putPod(record: PodRecord, blob: Uint8Array): Promise<void> {
    return putPageThenRecord(
      this.blobs,
      record.id,
      blob,
      () => this.sql`INSERT INTO pods (id, name, owner_pubkey, manifest_size, blob_size, created_at, hits, blob_sha256)
        VALUES (${record.id}, ${record.name}, ${record.ownerPubkey}, ${record.manifestSize}, ${record.blobSize}, ${new Date(record.createdAt)}, ${record.hits}, ${pageSha256(blob)})`,
    );
  }

  async getRecord(id: string): Promise<PodRecord | null> {
    const [row] = await this.sql<PodRow[]>`SELECT * FROM pods WHERE id = ${id}`;
    return row ? this.toRecord(row) : null;
  }

  /** The page as stored, checked against its record: a missing or altered one throws `PodDataError`. */
  async getBlob(id: string): Promise<Uint8Array | null> {
    const [row] = await this.sql<Pick<PodRow, "blob_size" | "blob_sha256">[]>`SELECT blob_size, blob_sha256 FROM pods WHERE id = ${id}`;
    if (!row) return null;
    return readCheckedPage(this.blobs, id, { size: Number(row.blob_size), sha256: row.blob_sha256 }, this.damaged);
  }

  /** Pods this node found with a missing or damaged page since start-up. */
  damagedPods(): number {
    return this.damaged.count();
  }

  async bumpHits(id: string): Promise<void> {
    this.hits.add(id);
  }

  /** Record and tombstone in one transaction, then the page (a crash between leaves only an unserved page). */
  async deletePod(id: string): Promise<boolean> {
    this.hits.forget(id);
    const existed = await this.sql.begin(async (tx) => {
      const removed = await tx`DELETE FROM pods WHERE id = ${id} RETURNING id`;
      if (removed.length > 0) await tx`INSERT INTO pod_tombstones (id, deleted_at) VALUES (${id}, now()) ON CONFLICT (id) DO UPDATE SET deleted_at = now()`;
      return removed.length > 0;
    });
    await this.blobs.delete(id).catch(() => undefined);
    return existed;
  }

  async isDeleted(id: string): Promise<boolean> {
    return (await this.sql`SELECT 1 FROM pod_tombstones WHERE id = ${id}`).length > 0;
  }

  async listPods(query: { owner?: string; limit: number; cursor?: string }): Promise<PodPage> {
    const after = query.cursor ?? "";
    const rows =
      query.owner === undefined
        ? await this.sql<PodRow[]>`SELECT * FROM pods WHERE id > ${after} ORDER BY id LIMIT ${query.limit + 1}`
        : await this.sql<PodRow[]>`SELECT * FROM pods WHERE owner_pubkey = ${query.owner} AND id > ${after} ORDER BY id LIMIT ${query.limit + 1}`;
    const pods = rows.slice(0, query.limit).map((row) => this.toRecord(row));
    return rows.length > query.limit ? { pods, nextCursor: pods.at(-1)!.id } : { pods };
  }

  async ownerUsage(ownerPubkey: string): Promise<OwnerUsage> {
    const [row] = await this.sql`SELECT count(*)::float8 AS pods, COALESCE(sum(blob_size), 0)::float8 AS bytes FROM pods WHERE owner_pubkey = ${ownerPubkey}`;
    return { pods: row.pods, bytes: row.bytes };
  }

  async idlePods(cutoff: Date): Promise<string[]> {
    await this.hits.flush();
    const rows = await this.sql<{ id: string }[]>`SELECT id FROM pods WHERE COALESCE(last_fetched_at, created_at) < ${cutoff}`;
    return rows.map((r) => r.id);
  }

  /** Postgres answers a query; the page store answers too. */
  async probeStore(store: StoreName): Promise<void> {
    if (store === "postgres") await this.sql`SELECT 1`;
    else await this.blobs.probe();
  }

  private toRecord(row: PodRow): PodRecord {
    return {
      id: row.id,
      name: row.name,
      ownerPubkey: row.owner_pubkey,
      manifestSize: Number(row.manifest_size),
      blobSize: Number(row.blob_size),
      createdAt: row.created_at.toISOString(),
      hits: Number(row.hits) + this.hits.pendingFor(row.id),
    };
  }

  async close(): Promise<void> {
    await this.hits.close().catch(() => undefined);
    await this.sql.close();
  }
}
