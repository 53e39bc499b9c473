import type { Database, Statement } from "bun:sqlite";
import type { SQL } from "bun";
import type { PodManifest } from "../manifest/types.ts";
import { PostgresRegistry } from "./postgres.ts";
import { SqliteRegistry } from "./sqlite.ts";
import type { Registry } from "./types.ts";

/**
 * Which owner key a pod id belongs to, for `--origin-auth claimed|required`.
 * The first binding wins and is never changed by these calls, even when
 * several nodes claim the same pod id at once.
 */
export interface PodBindings {
  owner(podId: string): Promise<string | null>;
  /** Binds `podId` to `ownerHex` unless already bound; resolves to the owner in force. */
  bind(podId: string, ownerHex: string): Promise<string>;
}

/** The pod ids a signed manifest speaks for: its signaling pod ids and its own id. */
export function podIdsNamedBy(manifest: PodManifest): string[] {
  const ids = [manifest.transport.dartc?.pod_id, manifest.transport.webrtc?.pod_id, manifest.id];
  return [...new Set(ids.filter((id): id is string => typeof id === "string" && id.length > 0))];
}

/** Bindings kept where the registry keeps its state. */
export function openBindings(registry: Registry): PodBindings {
  if (registry instanceof PostgresRegistry) return new PostgresBindings(registry.sql);
  return registry instanceof SqliteRegistry ? new SqliteBindings(registry.db) : new MemoryBindings();
}

export class MemoryBindings implements PodBindings {
  private readonly owners = new Map<string, string>();

  constructor(private readonly maxEntries = 1_000_000) {}

  async owner(podId: string): Promise<string | null> {
    return this.owners.get(podId) ?? null;
  }

  async bind(podId: string, ownerHex: string): Promise<string> {
    const current = this.owners.get(podId);
    if (current) return current;
    // Full: claims stop being recorded rather than memory growing without end.
    if (this.owners.size < this.maxEntries) this.owners.set(podId, ownerHex.toLowerCase());
    return ownerHex.toLowerCase();
  }
}

export class SqliteBindings implements PodBindings {
  private readonly select: Statement<{ owner_pubkey: string }, [string]>;
  private readonly insert: Statement;

  constructor(db: Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS pod_bindings (
      pod_id TEXT PRIMARY KEY, owner_pubkey TEXT NOT NULL, bound_at TEXT NOT NULL
    )`);
    this.select = db.prepare<{ owner_pubkey: string }, [string]>("SELECT owner_pubkey FROM pod_bindings WHERE pod_id = ?");
    this.insert = db.prepare("INSERT OR IGNORE INTO pod_bindings (pod_id, owner_pubkey, bound_at) VALUES (?, ?, ?)");
  }

  async owner(podId: string): Promise<string | null> {
    return this.select.get(podId)?.owner_pubkey ?? null;
  }

  async bind(podId: string, ownerHex: string): Promise<string> {
    this.insert.run(podId, ownerHex.toLowerCase(), new Date().toISOString());
    return this.select.get(podId)!.owner_pubkey;
  }
}

/** The claim is one statement on the server, so nodes racing for a pod id agree on the winner. */
export class PostgresBindings implements PodBindings {
  constructor(private readonly sql: SQL) {}

  async owner(podId: string): Promise<string | null> {
    const [row] = await this.sql<{ owner_pubkey: string }[]>`SELECT owner_pubkey FROM pod_bindings WHERE pod_id = ${podId}`;
    return row?.owner_pubkey ?? null;
  }

  async bind(podId: string, ownerHex: string): Promise<string> {
    const owner = ownerHex.toLowerCase();
    const [won] = await this.sql<{ owner_pubkey: string }[]>`INSERT INTO pod_bindings (pod_id, owner_pubkey, bound_at)
      VALUES (${podId}, ${owner}, now()) ON CONFLICT (pod_id) DO NOTHING RETURNING owner_pubkey`;
    return won?.owner_pubkey ?? (await this.owner(podId))!;
  }
}
