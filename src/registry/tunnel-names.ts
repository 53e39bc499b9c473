import type { Database, Statement } from "bun:sqlite";
import { SqliteRegistry } from "./sqlite.ts";
import type { Registry } from "./types.ts";

export type TunnelNameClaim = "ok" | "taken" | "too-many";

/**
 * Which owner key a tunnel name belongs to: the first key that registered it,
 * for good (a pod's `base_url` is fixed when it is signed). A key holds at most
 * `maxPerKey` names. Async so a networked store (Postgres) can implement it.
 */
export interface TunnelNames {
  /** "ok" when `name` is (now) `ownerKey`'s, "taken" when another key's, "too-many" when the key is full. */
  claimTunnelName(name: string, ownerKey: string, maxPerKey: number): Promise<TunnelNameClaim>;
  tunnelNameOwner(name: string): Promise<string | null>;
}

/** Names kept where the registry keeps its state. */
export function openTunnelNames(registry: Registry): TunnelNames {
  return registry instanceof SqliteRegistry ? new SqliteTunnelNames(registry.db) : new MemoryTunnelNames();
}

export class MemoryTunnelNames implements TunnelNames {
  private readonly owners = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  /** Keys cost nothing to make: past `maxNames` in all, new names are refused rather than memory growing. */
  constructor(private readonly maxNames = 1_000_000) {}

  async claimTunnelName(name: string, ownerKey: string, maxPerKey: number): Promise<TunnelNameClaim> {
    const key = ownerKey.toLowerCase();
    const owner = this.owners.get(name);
    if (owner !== undefined) return owner === key ? "ok" : "taken";
    const held = this.counts.get(key) ?? 0;
    if (held >= maxPerKey || this.owners.size >= this.maxNames) return "too-many";
    this.owners.set(name, key);
    this.counts.set(key, held + 1);
    return "ok";
  }

  async tunnelNameOwner(name: string): Promise<string | null> {
    return this.owners.get(name) ?? null;
  }
}

export class SqliteTunnelNames implements TunnelNames {
  private readonly select: Statement<{ owner_pubkey: string }, [string]>;
  private readonly count: Statement<{ n: number }, [string]>;
  private readonly insert: Statement;

  constructor(private readonly db: Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS tunnel_names (
      name TEXT PRIMARY KEY, owner_pubkey TEXT NOT NULL, claimed_at TEXT NOT NULL
    )`);
    db.exec("CREATE INDEX IF NOT EXISTS tunnel_names_owner ON tunnel_names (owner_pubkey)");
    this.select = db.prepare<{ owner_pubkey: string }, [string]>("SELECT owner_pubkey FROM tunnel_names WHERE name = ?");
    this.count = db.prepare<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM tunnel_names WHERE owner_pubkey = ?");
    this.insert = db.prepare("INSERT OR IGNORE INTO tunnel_names (name, owner_pubkey, claimed_at) VALUES (?, ?, ?)");
  }

  async claimTunnelName(name: string, ownerKey: string, maxPerKey: number): Promise<TunnelNameClaim> {
    const key = ownerKey.toLowerCase();
    // One transaction: the count and the insert see the same state.
    return this.db.transaction((): TunnelNameClaim => {
      const owner = this.select.get(name)?.owner_pubkey;
      if (owner !== undefined) return owner === key ? "ok" : "taken";
      if (this.count.get(key)!.n >= maxPerKey) return "too-many";
      this.insert.run(name, key, new Date().toISOString());
      return "ok";
    }).immediate();
  }

  async tunnelNameOwner(name: string): Promise<string | null> {
    return this.select.get(name)?.owner_pubkey ?? null;
  }
}
