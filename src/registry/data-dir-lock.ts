import { Database } from "bun:sqlite";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Another live process (or another registry in this one) holds the data dir. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number | undefined,
  ) {
    super(`data dir ${dataDir} is in use by pid ${pid ?? "unknown"}`);
  }
}

export interface DataDirLock {
  release(): void;
}

/**
 * Takes the data dir for this process: two servers on one dir would each keep
 * their own caches, quotas and tombstones, and one's start-up sweep could delete
 * a blob the other has just renamed into place. The lock is SQLite's own file
 * lock (an exclusive transaction held open on `gemmapod.lock`): the kernel drops
 * it when the process dies, even by SIGKILL, so a crash never blocks a restart.
 * The holder's pid goes in `gemmapod.pid`, for the message.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const db = new Database(join(dataDir, "gemmapod.lock"), { create: true });
  try {
    // The file only carries the lock: no journal file next to it.
    db.exec("PRAGMA busy_timeout = 0; PRAGMA journal_mode = MEMORY; BEGIN EXCLUSIVE");
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === "SQLITE_BUSY") throw new DataDirInUseError(dataDir, holderPid(dataDir));
    throw error;
  }
  writeFileSync(pidFile(dataDir), `${process.pid}\n`);
  return {
    release() {
      db.exec("ROLLBACK");
      db.close();
    },
  };
}

function pidFile(dataDir: string): string {
  return join(dataDir, "gemmapod.pid");
}

function holderPid(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile(dataDir), "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
