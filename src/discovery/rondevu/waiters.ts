import type { Hub } from "../../cluster/hub.ts";

/** One long poll's wait (see `Waiters.wait`). */
export interface Wait {
  /** Resolves once a wake-up from any node reaches this wait: read the session after it. */
  listening: Promise<void>;
  /** Resolves on a wake-up, at the deadline, or on `close()`. */
  woken: Promise<void>;
  end(): void;
}

const topic = (code: string) => `rv:${code}`;

/**
 * Long-poll wake-ups, keyed by session code, carried by the hub so that a change made
 * on one node wakes polls waiting on any other. Bounded in total and per code: a poll
 * that finds no room simply answers at once, as a plain poll would.
 */
export class Waiters {
  private readonly perCode = new Map<string, number>();
  private readonly ends = new Set<() => void>();

  constructor(
    private readonly hub: Hub,
    private readonly maxTotal: number,
    private readonly maxPerCode: number,
  ) {}

  /** A wait of at most `ms`, or false if there was no room to wait. */
  wait(code: string, ms: number): Wait | false {
    const count = this.perCode.get(code) ?? 0;
    if (this.ends.size >= this.maxTotal || count >= this.maxPerCode) return false;
    this.perCode.set(code, count + 1);
    let end!: () => void;
    const woken = new Promise<void>((resolve) => {
      const timer = setTimeout(() => end(), ms);
      end = () => {
        if (!this.ends.delete(end)) return;
        clearTimeout(timer);
        listening.stop();
        const left = this.perCode.get(code)! - 1;
        if (left === 0) this.perCode.delete(code);
        else this.perCode.set(code, left);
        resolve();
      };
    });
    this.ends.add(end);
    const listening = this.hub.listen(topic(code), () => end());
    return { listening: listening.ready, woken, end };
  }

  /** Wakes every poll waiting on `code`, on every node. */
  wake(code: string): void {
    this.hub.publish(topic(code), "1");
  }

  close(): void {
    for (const end of [...this.ends]) end();
  }

  size(): number {
    return this.ends.size;
  }
}
