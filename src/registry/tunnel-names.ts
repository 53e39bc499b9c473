import type { Database, Statement } from "bun:sqlite";
import type { SQL } from "bun";
import { PostgresRegistry } from "./postgres.ts";
import { SqliteRegistry } from "./sqlite.ts";
import type { Registry } from "./types.ts";

/** `ok` also when the key already holds the name. */
export type TunnelClaim = "ok" | "taken-by-other" | "too-many";

/**
 * Who owns a tunnel name (name → owner key). The first claim wins; an owner
 * key holds at most `maxPerKey` names. Claims are atomic in every store, also
 * when several nodes share one Postgres.
 */
export interface TunnelNames {
  claimTunnelName(name: string, ownerKey: string, maxPerKey: number): Promise<TunnelClaim>;
  tunnelNameOwner(name: string): Promise<string | null>;
  /** Frees a name its owner no longer wants; false if `ownerKey` did not hold it. */
  releaseTunnelName(name: string, ownerKey: string): Promise<boolean>;
}

/** Tunnel names kept where the registry keeps its state. */
export function openTunnelNames(registry: Registry): TunnelNames {
  if (registry instanceof PostgresRegistry) return new PostgresTunnelNames(registry.sql);
  return registry instanceof SqliteRegistry ? new SqliteTunnelNames(registry.db) : new MemoryTunnelNames();
}

export class MemoryTunnelNames implements TunnelNames {
  private readonly owners = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  /** `maxEntries` bounds memory: past it every new name is refused as too many. */
  constructor(private readonly maxEntries = 1_000_000) {}

  async claimTunnelName(name: string, ownerKey: string, maxPerKey: number): Promise<TunnelClaim> {
    const key = ownerKey.toLowerCase();
    const current = this.owners.get(name);
    if (current !== undefined) return current === key ? "ok" : "taken-by-other";
    if ((this.counts.get(key) ?? 0) >= maxPerKey || this.owners.size >= this.maxEntries) return "too-many";
    this.owners.set(name, key);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    return "ok";
  }

  async tunnelNameOwner(name: string): Promise<string | null> {
    return this.owners.get(name) ?? null;
  }

  async releaseTunnelName(name: string, ownerKey: string): Promise<boolean> {
    const key = ownerKey.toLowerCase();
    if (this.owners.get(name) !== key) return false;
    this.owners.delete(name);
    const left = this.counts.get(key)! - 1;
    if (left === 0) this.counts.delete(key);
    else this.counts.set(key, left);
    return true;
  }
}

export class SqliteTunnelNames implements TunnelNames {
  private readonly q: { owner: Statement<{ owner_pubkey: string }, [string]>; count: Statement<{ n: number }, [string]>; insert: Statement; remove: Statement };

  constructor(private readonly db: Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS tunnel_names (name TEXT PRIMARY KEY, owner_pubkey TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS tunnel_names_owner ON tunnel_names(owner_pubkey);`);
    this.q = {
      owner: db.prepare("SELECT owner_pubkey FROM tunnel_names WHERE name = ?"),
      count: db.prepare("SELECT COUNT(*) AS n FROM tunnel_names WHERE owner_pubkey = ?"),
      insert: db.prepare("INSERT INTO tunnel_names (name, owner_pubkey, created_at) VALUES (?, ?, ?)"),
      remove: db.prepare("DELETE FROM tunnel_names WHERE name = ? AND owner_pubkey = ?"),
    };
  }

  async claimTunnelName(name: string, ownerKey: string, maxPerKey: number): Promise<TunnelClaim> {
    const key = ownerKey.toLowerCase();
    return this.db.transaction((): TunnelClaim => {
      const current = this.q.owner.get(name);
      if (current) return current.owner_pubkey === key ? "ok" : "taken-by-other";
      if (this.q.count.get(key)!.n >= maxPerKey) return "too-many";
      this.q.insert.run(name, key, new Date().toISOString());
      return "ok";
    }).immediate();
  }

  async tunnelNameOwner(name: string): Promise<string | null> {
    return this.q.owner.get(name)?.owner_pubkey ?? null;
  }

  async releaseTunnelName(name: string, ownerKey: string): Promise<boolean> {
    return this.q.remove.run(name, ownerKey.toLowerCase()).changes > 0;
  }
}

export class PostgresTunnelNames implements TunnelNames {
  constructor(private readonly sql: SQL) {}

  async claimTunnelName(name: string, ownerKey: string, maxPerKey: number): Promise<TunnelClaim> {
    const key = ownerKey.toLowerCase();
    return this.sql.begin(async (tx): Promise<TunnelClaim> => {
      // One owner key's claims run one at a time, so its count cannot be overshot by a race.
      await tx`SELECT pg_advisory_xact_lock(hashtext(${`tunnel:${key}`}))`;
      const [current] = await tx<{ owner_pubkey: string }[]>`SELECT owner_pubkey FROM tunnel_names WHERE name = ${name}`;
      if (current) return current.owner_pubkey === key ? "ok" : "taken-by-other";
      const [{ n }] = await tx`SELECT count(*)::int AS n FROM tunnel_names WHERE owner_pubkey = ${key}`;
      if (n >= maxPerKey) return "too-many";
      const won = await tx`INSERT INTO tunnel_names (name, owner_pubkey, created_at) VALUES (${name}, ${key}, now()) ON CONFLICT (name) DO NOTHING RETURNING name`;
      return won.length > 0 ? "ok" : "taken-by-other";
    });
  }

  async tunnelNameOwner(name: string): Promise<string | null> {
    const [row] = await this.sql<{ owner_pubkey: string }[]>`SELECT owner_pubkey FROM tunnel_names WHERE name = ${name}`;
    return row?.owner_pubkey ?? null;
  }

  async releaseTunnelName(name: string, ownerKey: string): Promise<boolean> {
    const removed = await this.sql`DELETE FROM tunnel_names WHERE name = ${name} AND owner_pubkey = ${ownerKey.toLowerCase()} RETURNING name`;
    return removed.length > 0;
  }
}
