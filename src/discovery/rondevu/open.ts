import type { Hub } from "../../cluster/hub.ts";
import type { Config } from "../../config.ts";
import type { Logger } from "../../log/logger.ts";
import type { Registry } from "../../registry/types.ts";
import { PostgresRegistry } from "../../registry/postgres.ts";
import { SqliteRegistry } from "../../registry/sqlite.ts";
import { MemoryRondevuStore } from "./memory-store.ts";
import { PostgresRondevuStore } from "./postgres-store.ts";
import { rondevuRoutes, type RondevuApi } from "./routes.ts";
import { SqliteRondevuStore } from "./sqlite-store.ts";
import type { RondevuStore } from "./types.ts";

export type RondevuConfig = Pick<
  Config,
  "sessionTimeoutMs" | "corsOrigins" | "rondevuMaxSdpBytes" | "rondevuMaxCandidates" | "rondevuMaxSessionsPerTopic" | "rondevuMaxSessions" | "rondevuRate" | "trustProxy"
>;

/** The Rondevu API with storage following the registry: its Postgres, its SQLite file, or memory. */
export function openRondevu(config: RondevuConfig, registry: Registry, hub: Hub, log: Logger): RondevuApi {
  return rondevuRoutes({
    store: storeFor(registry),
    hub,
    log,
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

function storeFor(registry: Registry): RondevuStore {
  if (registry instanceof PostgresRegistry) return new PostgresRondevuStore(registry.sql);
  return registry instanceof SqliteRegistry ? new SqliteRondevuStore(registry.db) : new MemoryRondevuStore();
}
