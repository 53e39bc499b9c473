// Registries on every storage backend, for suites that run once per backend.
// Postgres and S3 start once per test file and stop after it.
import { afterAll } from "bun:test";
import { join } from "node:path";
import { FileBlobStore, type BlobStore } from "../../src/registry/blob-store.ts";
import { MemoryRegistry } from "../../src/registry/memory.ts";
import { PostgresRegistry } from "../../src/registry/postgres.ts";
import { parseS3Url, S3BlobStore } from "../../src/registry/s3-blob-store.ts";
import { SqliteRegistry } from "../../src/registry/sqlite.ts";
import type { ManagedRegistry } from "../../src/registry/types.ts";
import { tempDir } from "./server.ts";
import { startPostgres, startS3, type PostgresService, type S3Service } from "./services.ts";

export type StorageKind = "memory" | "sqlite" | "postgres+s3" | "postgres+files";

export interface StorageServices {
  pg: PostgresService | null;
  s3: S3Service | null;
}

/** One place to keep pods; every `open()` is a new registry instance (a new node) on it. */
export interface StorageSpot {
  kind: StorageKind;
  open(): Promise<ManagedRegistry>;
  /** The pages of postgres+s3 / postgres+files, as the registries see them. */
  blobs?: BlobStore;
  /** The database of postgres+s3 / postgres+files. */
  url?: string;
}

/** Each file's one database, made on first use. */
const databases = new WeakMap<PostgresService, Promise<string>>();

/**
 * The file's one database, emptied: truncating is ~100× faster than creating a
 * database, and tests in a file run one after another.
 */
async function emptyDatabase(pg: PostgresService): Promise<string> {
  if (!databases.has(pg)) databases.set(pg, pg.freshDatabase());
  const database = await databases.get(pg)!;
  const sql = new Bun.SQL(database, { max: 1 });
  try {
    const tables = await sql<{ name: string }[]>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'gemmapod_migrations'`;
    if (tables.length > 0) await sql.unsafe(`TRUNCATE ${tables.map((t) => `"${t.name}"`).join(", ")}`);
  } finally {
    await sql.close();
  }
  return database;
}

/**
 * Starts Postgres and S3 for the calling test file and stops them when it ends.
 * Call once, at the top of the file (helper modules are shared between files).
 */
export async function storageServices(): Promise<StorageServices> {
  const [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  afterAll(async () => {
    await Promise.all([pg?.stop(), s3?.stop()]);
  });
  return { pg, s3 };
}

export function available(kind: StorageKind, { pg, s3 }: StorageServices): boolean {
  if (kind === "postgres+s3") return pg !== null && s3 !== null;
  return kind === "postgres+files" ? pg !== null : true;
}

export function s3BlobStore(s3: S3Service, location = s3.freshLocation()): S3BlobStore {
  return new S3BlobStore({ ...parseS3Url(location), endpoint: s3.url, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: "us-east-1" });
}

/** A fresh, empty place of `kind` (a new database, bucket prefix or directory). */
export async function newSpot(kind: StorageKind, { pg, s3 }: StorageServices, options: { hitFlushMs?: number } = {}): Promise<StorageSpot> {
  if (kind === "memory") return { kind, open: async () => new MemoryRegistry() };
  const dir = tempDir();
  if (kind === "sqlite") return { kind, open: async () => new SqliteRegistry({ dataDir: dir, ...options }) };
  const url = await emptyDatabase(pg!);
  const blobs = kind === "postgres+s3" ? s3BlobStore(s3!) : new FileBlobStore(join(dir, "blobs"));
  return { kind, blobs, url, open: () => PostgresRegistry.open({ url, blobs, poolSize: 4, ...options }) };
}

export const ALL_KINDS: readonly StorageKind[] = ["memory", "sqlite", "postgres+s3", "postgres+files"];

