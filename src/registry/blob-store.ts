import { existsSync, mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { probeDisk, TEMP_PREFIX, writeFileAtomic } from "./atomic-file.ts";

/**
 * Where pod pages live, apart from their records. A registry writes the page
 * before its record and deletes it when the record insert fails, so a record
 * never points at a missing page.
 */
export interface BlobStore {
  readonly name: string;
  /** Where a page is kept, for logs (a path, an object URL). */
  where(id: string): string;
  /** Durable when it resolves. */
  put(id: string, data: Uint8Array): Promise<void>;
  get(id: string): Promise<Uint8Array | null>;
  stat(id: string): Promise<{ size: number } | null>;
  /** Absent is fine. */
  delete(id: string): Promise<void>;
  /** Rejects while the store cannot be used (see StoreOutages). */
  probe(): Promise<void>;
}

/** Page first, then record: a record that cannot be stored takes its page away again. */
export async function putPageThenRecord(blobs: BlobStore, id: string, page: Uint8Array, insertRecord: () => unknown): Promise<void> {
  await blobs.put(id, page);
  try {
    await insertRecord();
  } catch (error) {
    await blobs.delete(id).catch(() => undefined);
    throw error;
  }
}

/** Pages as `<dir>/<id>.html`, each written temp file + fsync + rename. */
export class FileBlobStore implements BlobStore {
  readonly name = "files";
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    mkdirSync(this.dir, { recursive: true });
  }

  path(id: string): string {
    return join(this.dir, `${id}.html`);
  }

  where(id: string): string {
    return this.path(id);
  }

  /** Whether the page's file exists (a start-up check, so synchronous). */
  has(id: string): boolean {
    return existsSync(this.path(id));
  }

  put(id: string, data: Uint8Array): Promise<void> {
    return writeFileAtomic(this.path(id), data);
  }

  async get(id: string): Promise<Uint8Array | null> {
    try {
      return await Bun.file(this.path(id)).bytes();
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async stat(id: string): Promise<{ size: number } | null> {
    try {
      return { size: (await Bun.file(this.path(id)).stat()).size };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    await unlink(this.path(id)).catch((error) => {
      if (!isMissing(error)) throw error;
    });
  }

  probe(): Promise<void> {
    return probeDisk(this.dir);
  }

  /**
   * Removes what a crash can leave: temp files (mid-write) and pages whose
   * record was never inserted or already deleted. Run before serving starts.
   */
  removeLeftovers(isRecorded: (id: string) => boolean): void {
    for (const name of readdirSync(this.dir)) {
      const orphan = name.endsWith(".html") && !isRecorded(name.slice(0, -5));
      if (name.startsWith(TEMP_PREFIX) || orphan) unlinkSync(join(this.dir, name));
    }
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === "ENOENT";
}
