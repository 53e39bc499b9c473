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
    } else if (w.holder === null) {
      // Nobody held it at the last look, but a first claim tells no watcher: look again.
      w.holder = undefined;
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
    // A holder this node never saw (claimed after its look) is gone too.
    else if (w.holder === null || epoch >= w.holder.epoch) this.fire(name, w);
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
    const before = w.holder;
    // Redis unreachable (undefined): what was known stands; the next recheck looks again.
    const claim = typeof stored === "string" ? parseClaim(stored) : null;
    const seen = stored === undefined ? (before ?? null) : claim && { node: claim.node, epoch: claim.epoch };
    w.holder = seen;
    if (before === undefined) {
      if (seen && (w.goneEpoch >= seen.epoch || !this.isAlive(seen.node))) this.fire(name, w);
    } else if (before && seen?.epoch !== before.epoch) this.fire(name, w);
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
