import { join } from "node:path";
import type { Config } from "../config.ts";
import { FileBlobStore, type BlobStore } from "./blob-store.ts";
import { MemoryRegistry } from "./memory.ts";
import { PostgresRegistry } from "./postgres.ts";
import { parseS3Url, S3BlobStore } from "./s3-blob-store.ts";
import { SqliteRegistry } from "./sqlite.ts";
import type { Registry } from "./types.ts";

export type StorageConfig = Pick<Config, "registry" | "dataDir" | "databaseUrl" | "databasePoolSize" | "blobStore" | "s3Endpoint">;

/** The registries the command line can choose from, ready to serve (Postgres connected and migrated). */
export async function openRegistry(config: StorageConfig): Promise<Registry> {
  if (config.registry === "memory") return new MemoryRegistry();
  const blobs = openBlobStore(config);
  if (config.registry === "sqlite") return new SqliteRegistry({ dataDir: config.dataDir, blobs });
  return PostgresRegistry.open({ url: config.databaseUrl!, poolSize: config.databasePoolSize, blobs });
}

/** `files` keeps pages in `<data-dir>/blobs`; `s3://…` in a bucket (credentials from the environment). */
export function openBlobStore(config: Pick<Config, "dataDir" | "blobStore" | "s3Endpoint">): BlobStore {
  if (config.blobStore === "files") return new FileBlobStore(join(config.dataDir, "blobs"));
  return new S3BlobStore({ ...parseS3Url(config.blobStore), endpoint: config.s3Endpoint });
}
