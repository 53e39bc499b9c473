// Which store a failure says is away: the request was fine, the storage behind it is not.

/** The stores a registry may depend on: Postgres, an S3 bucket, the data dir's disk (SQLite, page files). */
export const STORES = ["postgres", "s3", "data-dir"] as const;
export type StoreName = (typeof STORES)[number];

/** What each store is, for people reading an error or /health. */
export const STORE_ROLES: Record<StoreName, string> = {
  postgres: "the Postgres database (pod records)",
  s3: "the S3 bucket (pod pages)",
  "data-dir": "the data dir's disk (SQLite records, page files)",
};

export interface StoreFailure {
  store: StoreName;
  /** The disk is full: nothing new can be stored, what is stored is still there (507). */
  full: boolean;
}

/** A store's failure, tagged where the store knows its own errors (S3's all look alike). */
export class StoreUnavailableError extends Error {
  constructor(
    readonly store: StoreName,
    cause: unknown,
  ) {
    super(`${store}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** Postgres states that mean "down for now, retry": no connection, or the server shutting down/starting. */
const RETRYABLE_SQLSTATE = new Set(["57P01", "57P02", "57P03", "08000", "08001", "08003", "08006"]);
/** SQLite codes that mean the disk under it failed, not the query. */
const SQLITE_DISK = /^SQLITE_(IOERR|CANTOPEN|READONLY|PROTOCOL|NOTADB)/;
/** File-system errors of the disk itself. */
const DISK_ERRNO = new Set(["EIO", "EROFS", "ENOTCONN", "ESTALE"]);
const DISK_FULL_ERRNO = new Set(["ENOSPC", "EDQUOT"]);

/**
 * The store `error` says is unreachable for the moment (or full), rather than
 * that the request was wrong; null for any other error.
 */
export function storageFailure(error: unknown): StoreFailure | null {
  if (error instanceof StoreUnavailableError) return { store: error.store, full: false };
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
  if (typeof code === "string") {
    if (code.startsWith("ERR_POSTGRES_CONNECTION")) return { store: "postgres", full: false };
    if (code === "SQLITE_FULL" || DISK_FULL_ERRNO.has(code)) return { store: "data-dir", full: true };
    if (SQLITE_DISK.test(code) || DISK_ERRNO.has(code)) return { store: "data-dir", full: false };
  }
  if (typeof errno === "string" && RETRYABLE_SQLSTATE.has(errno)) return { store: "postgres", full: false };
  return null;
}
