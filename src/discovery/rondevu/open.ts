import type { Config } from "../../config.ts";
import type { Registry } from "../../registry/types.ts";
import { SqliteRegistry } from "../../registry/sqlite.ts";
import { MemoryRondevuStore } from "./memory-store.ts";
import { rondevuRoutes, type RondevuApi } from "./routes.ts";
import { SqliteRondevuStore } from "./sqlite-store.ts";

export type RondevuConfig = Pick<
  Config,
  "sessionTimeoutMs" | "corsOrigins" | "rondevuMaxSdpBytes" | "rondevuMaxCandidates" | "rondevuMaxSessionsPerTopic" | "rondevuMaxSessions" | "rondevuRate" | "trustProxy"
>;

/** The Rondevu API with storage following the registry: its SQLite file, or memory. */
export function openRondevu(config: RondevuConfig, registry: Registry): RondevuApi {
  return rondevuRoutes({
    store: registry instanceof SqliteRegistry ? new SqliteRondevuStore(registry.db) : new MemoryRondevuStore(),
    sessionTimeoutMs: config.sessionTimeoutMs,
    corsOrigins: config.corsOrigins,
    maxSdpBytes: config.rondevuMaxSdpBytes,
    maxCandidates: config.rondevuMaxCandidates,
    maxSessionsPerTopic: config.rondevuMaxSessionsPerTopic,
    maxSessions: config.rondevuMaxSessions,
    ratePerSecond: config.rondevuRate,
    trustProxy: config.trustProxy,
  });
}
