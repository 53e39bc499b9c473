import { ROUTE_BATCH, type Script } from "./redis-scripts.ts";

/** Most entries in one script call: bounds the reply and how long Redis is busy with one call. */
const MAX_BATCH = 256;

/** p: publish a framed message; +/-: this node gains / loses interest in a topic. */
type Op = "p" | "+" | "-";

interface Entry {
  key: string;
  op: Op;
  arg: string;
  onCount?: (receivers: number | undefined) => void;
}

/**
 * Gathers what this node routes during one turn of the event loop (publishes and interest
 * changes) into one script call, with one PUBLISH per target node: the per-message cost of a
 * Redis round trip is shared. Order is kept: entries run in order, batches go out in order, and
 * any other command first sends what is gathered.
 */
export class RouteBatch {
  private pending: Entry[] = [];
  private scheduled = false;
  /** Messages handed to Redis for other nodes since start (metrics). */
  routed = 0;

  constructor(
    private readonly self: string,
    private readonly send: (script: Script, keys: string[], args: string[]) => Promise<unknown>,
  ) {}

  /** `onCount` hears how many subscribers elsewhere got it; undefined if Redis was not reached. */
  publish(topic: string, framed: string, onCount?: (receivers: number | undefined) => void): void {
    this.routed++;
    this.add({ key: `gp:t:${topic}`, op: "p", arg: framed, onCount });
  }

  interest(topic: string, gained: boolean): void {
    this.add({ key: `gp:t:${topic}`, op: gained ? "+" : "-", arg: topic });
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const keys = batch.map((e) => e.key);
    const args = [this.self, batch.map((e) => e.op).join(""), ...batch.map((e) => e.arg)];
    void this.send(ROUTE_BATCH, keys, args).then((counts) => {
      const list = Array.isArray(counts) ? (counts as number[]) : undefined;
      for (let i = 0; i < batch.length; i++) batch[i]!.onCount?.(list?.[i]);
    });
  }

  private add(entry: Entry): void {
    this.pending.push(entry);
    if (this.pending.length >= MAX_BATCH) return this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }
}
