/** Postgres states that mean "down for now, retry": no connection, or the server shutting down/starting. */
const RETRYABLE_SQLSTATE = new Set(["57P01", "57P02", "57P03", "08000", "08001", "08003", "08006"]);

/**
 * Whether `error` says the shared storage is unreachable for the moment, rather
 * than that the request was wrong: clients get 503 + Retry-After for these.
 */
export function isStorageOutage(error: unknown): boolean {
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (typeof code === "string" && code.startsWith("ERR_POSTGRES_CONNECTION")) return true;
  return typeof errno === "string" && RETRYABLE_SQLSTATE.has(errno);
}
