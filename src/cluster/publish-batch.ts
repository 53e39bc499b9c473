import { PUBLISH_BATCH, type Script } from "./redis-scripts.ts";

/** Most messages in one script call: bounds the reply and how long Redis is busy with one call. */
const MAX_BATCH = 256;

interface Pending {
  key: string;
  framed: string;
  onCount?: (receivers: number | undefined) => void;
}

/**
 * Gathers what this node publishes during one turn of the event loop into one script call
 * (and one PUBLISH per target node): the per-message cost of a Redis round trip is shared.
 * Order is kept: batches go out in order, and any other command first sends what is gathered.
 */
export class PublishBatch {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly self: string,
    private readonly send: (script: Script, keys: string[], args: string[]) => Promise<unknown>,
  ) {}

  /** `onCount` hears how many subscribers elsewhere got it; undefined if Redis was not reached. */
  add(key: string, framed: string, onCount?: (receivers: number | undefined) => void): void {
    this.pending.push({ key, framed, onCount });
    if (this.pending.length >= MAX_BATCH) return this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const keys = batch.map((p) => p.key);
    const args = [this.self, ...batch.map((p) => p.framed)];
    void this.send(PUBLISH_BATCH, keys, args).then((counts) => {
      const list = Array.isArray(counts) ? (counts as number[]) : undefined;
      for (let i = 0; i < batch.length; i++) batch[i]!.onCount?.(list?.[i]);
    });
  }
}
