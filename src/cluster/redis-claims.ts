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

const EARLY_KEPT_MS = 10_000;
const MAX_EARLY = 10_000;

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
  /**
   * Takeovers heard for claims not (yet) held, by `epoch:name`, with when they were heard. The
   * takeover comes on the subscriber connection and may overtake the claim's own reply on the
   * command connection; without this, both sockets would think they hold the name.
   */
  private readonly early = new Map<string, number>();

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
    // Taken already, before this node heard it had it: lost once the caller holds it (as any loss comes).
    if (this.early.delete(key)) setTimeout(() => this.holdings.delete(key) && onLost(), 0);
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
    if (!holding) return this.heardEarly(key);
    this.holdings.delete(key);
    holding.onLost();
  }

  /** Kept briefly and boundedly: a reply overtaken by its takeover comes within a round trip. */
  private heardEarly(key: string): void {
    const now = performance.now();
    for (const [k, at] of this.early) {
      if (at > now - EARLY_KEPT_MS && this.early.size < MAX_EARLY) break;
      this.early.delete(k);
    }
    this.early.set(key, now);
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
