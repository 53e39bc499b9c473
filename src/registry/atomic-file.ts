import { open, rename, unlink } from "node:fs/promises";
import { dirname, join, basename } from "node:path";

/**
 * Writes `data` to `path` so that a crash at any moment leaves either the old
 * state or the complete new file: write a temp file, fsync it, rename it into
 * place, then fsync the directory so the rename itself is durable.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const temp = join(dirname(path), `${TEMP_PREFIX}${basename(path)}.${process.pid}.${crypto.randomUUID()}`);
  const file = await open(temp, "wx", 0o644);
  try {
    await file.writeFile(data);
    await file.sync();
  } catch (error) {
    await file.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await file.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** How much a disk probe writes: room for a small page and SQLite's next pages. */
const PROBE_BYTES = 64 * 1024;

/** Whether `dir`'s disk takes writes again (after it was full or failing): writes and removes a small temp file. */
export async function probeDisk(dir: string): Promise<void> {
  const path = join(dir, `${TEMP_PREFIX}probe`);
  await writeFileAtomic(path, new Uint8Array(PROBE_BYTES));
  await unlink(path);
}

/** Temp files start with this so a start-up sweep can tell them from real blobs. */
export const TEMP_PREFIX = ".tmp-";

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
