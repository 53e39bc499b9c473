import type { Database, Statement } from "bun:sqlite";
import type { PodManifest } from "../manifest/types.ts";
import { SqliteRegistry } from "./sqlite.ts";
import type { Registry } from "./types.ts";

/**
 * Which owner key a pod id belongs to, for `--origin-auth claimed|required`.
 * The first binding wins and is never changed by these calls.
 */
export interface PodBindings {
  owner(podId: string): string | null;
  /** Binds `podId` to `ownerHex` unless already bound; returns the owner in force. */
  bind(podId: string, ownerHex: string): string;
}

/** The pod ids a signed manifest speaks for: its signaling pod ids and its own id. */
export function podIdsNamedBy(manifest: PodManifest): string[] {
  const ids = [manifest.transport.dartc?.pod_id, manifest.transport.webrtc?.pod_id, manifest.id];
  return [...new Set(ids.filter((id): id is string => typeof id === "string" && id.length > 0))];
}

/** Bindings kept where the registry keeps its state. */
export function openBindings(registry: Registry): PodBindings {
  return registry instanceof SqliteRegistry ? new SqliteBindings(registry.db) : new MemoryBindings();
}

export class MemoryBindings implements PodBindings {
  private readonly owners = new Map<string, string>();

  constructor(private readonly maxEntries = 1_000_000) {}

  owner(podId: string): string | null {
    return this.owners.get(podId) ?? null;
  }

  bind(podId: string, ownerHex: string): string {
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

  owner(podId: string): string | null {
    return this.select.get(podId)?.owner_pubkey ?? null;
  }

  bind(podId: string, ownerHex: string): string {
    this.insert.run(podId, ownerHex.toLowerCase(), new Date().toISOString());
    return this.owner(podId)!;
  }
}
