import type { Claim } from "./hub.ts";
import type { RedisLink } from "./redis-link.ts";
import { CLAIM, RECLAIM, RELEASE } from "./redis-scripts.ts";

interface Holding {
  name: string;
  epoch: number;
  /** The claim exactly as stored in Redis: "node|epoch|value". */
  stored: string;
  onLost: () => void;
}

/** A stored claim, read back. */
export function parseClaim(stored: string): { node: string; epoch: number; value: string } | null {
  const m = /^([^|]*)\|(\d+)\|([\s\S]*)$/.exec(stored);
  return m ? { node: m[1]!, epoch: Number(m[2]), value: m[3]! } : null;
}

/**
 * Names this node holds. Every claim gets a new epoch from Redis; a takeover names the epoch it
 * ended, so a late message can never end a newer claim (fencing). After a gap, `recheck` gives up
 * every claim another node took meanwhile.
 */
export class RedisClaims {
  /** By `epoch:name`: the same name may be held twice for a moment while one replaces the other. */
  private readonly holdings = new Map<string, Holding>();

  constructor(
    private readonly link: RedisLink,
    private readonly self: string,
  ) {}

  async claim(name: string, value: string, onLost: () => void): Promise<Claim> {
    const stored = (epoch: number) => `${this.self}|${epoch}|${value}`;
    const release = (epoch: number) => void this.link.run(RELEASE, [`gp:c:${name}`, `gp:nc:${this.self}`, `gp:w:${name}`], [stored(epoch), name, String(epoch)]);
    // A claim that took effect after its caller was told it failed holds the name for nobody: given back.
    const late = (epoch: unknown) => typeof epoch === "number" && release(epoch);
    const epoch = await this.link.run(CLAIM, [`gp:c:${name}`, `gp:nc:${this.self}`, `gp:w:${name}`, "gp:epoch"], [this.self, value, name], late);
    if (typeof epoch !== "number") throw new Error("the cluster is unreachable");
    const holding: Holding = { name, epoch, stored: stored(epoch), onLost };
    const key = `${epoch}:${name}`;
    this.holdings.set(key, holding);
    return {
      release: () => {
        if (this.holdings.delete(key)) release(epoch);
      },
    };
  }

  /** Another node took `name` from the claim made at `epoch`. */
  lost(epoch: number, name: string): void {
    const key = `${epoch}:${name}`;
    const holding = this.holdings.get(key);
    if (!holding) return;
    this.holdings.delete(key);
    holding.onLost();
  }

  /** Restores what Redis forgot and gives up what another node took while this one was away. */
  async recheck(): Promise<void> {
    for (const batch of batches([...this.holdings.entries()])) {
      await Promise.all(
        batch.map(async ([key, h]) => {
          const still = await this.link.run(RECLAIM, [`gp:c:${h.name}`, `gp:nc:${this.self}`, "gp:epoch"], [h.stored, h.name, String(h.epoch)]);
          if (still === 0 && this.holdings.delete(key)) h.onLost();
        }),
      );
    }
  }
}

/** Re-announcing a node's state goes in slices, so it never floods the link's in-flight bound. */
export function* batches<T>(items: T[], size = 1000): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
