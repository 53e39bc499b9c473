import type { RedisLink } from "./redis-link.ts";
import { INDEXED_REMOVE, WATCH } from "./redis-scripts.ts";
import { batches, parseClaim } from "./redis-claims.ts";

interface Watched {
  listeners: Set<() => void>;
  /** The holder this node saw; undefined while the first look is on its way. */
  holder?: { node: string; epoch: number } | null;
  /** The newest "gone" heard before the first look came back. */
  goneEpoch: number;
}

/**
 * Names this node watches. Redis keeps who watches what, so a release or takeover
 * publishes "gone" to exactly these nodes; a holder's death is noticed here, from liveness.
 */
export class RedisWatches {
  private readonly watched = new Map<string, Watched>();

  constructor(
    private readonly link: RedisLink,
    private readonly self: string,
    private readonly isAlive: (node: string) => boolean,
  ) {}

  watch(name: string, onGone: () => void): () => void {
    let w = this.watched.get(name);
    if (!w) {
      this.watched.set(name, (w = { listeners: new Set(), goneEpoch: 0 }));
      void this.look(name, w);
    }
    const listener = () => onGone();
    w.listeners.add(listener);
    const entry = w;
    return () => {
      if (!entry.listeners.delete(listener) || entry.listeners.size > 0 || this.watched.get(name) !== entry) return;
      this.forget(name);
    };
  }

  gone(epoch: number, name: string): void {
    const w = this.watched.get(name);
    if (!w) return;
    if (w.holder === undefined) w.goneEpoch = Math.max(w.goneEpoch, epoch);
    else if (w.holder !== null && epoch >= w.holder.epoch) this.fire(name, w);
  }

  nodeDied(node: string): void {
    for (const [name, w] of this.watched) if (w.holder?.node === node) this.fire(name, w);
  }

  /** After a gap: watch again; a holder that changed meanwhile is gone. */
  async recheck(): Promise<void> {
    for (const batch of batches([...this.watched.entries()])) {
      await Promise.all(batch.map(([name, w]) => this.look(name, w)));
    }
  }

  private async look(name: string, w: Watched): Promise<void> {
    const stored = await this.link.run(WATCH, [`gp:w:${name}`, `gp:nw:${this.self}`, `gp:c:${name}`], [this.self, name]);
    if (this.watched.get(name) !== w) return;
    const claim = typeof stored === "string" ? parseClaim(stored) : null;
    const seen = claim && { node: claim.node, epoch: claim.epoch };
    if (w.holder === undefined) {
      // Redis unreachable: nobody known; the next recheck looks again.
      w.holder = seen ?? null;
      if (seen && (w.goneEpoch >= seen.epoch || !this.isAlive(seen.node))) this.fire(name, w);
    } else if (w.holder && seen && seen.epoch !== w.holder.epoch) this.fire(name, w);
    else if (!w.holder) w.holder = seen;
  }

  private fire(name: string, w: Watched): void {
    this.forget(name);
    for (const listener of w.listeners) listener();
  }

  private forget(name: string): void {
    this.watched.delete(name);
    void this.link.run(INDEXED_REMOVE, [`gp:w:${name}`, `gp:nw:${this.self}`], [this.self, name]);
  }
}
