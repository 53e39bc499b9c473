/** How long a Redis reply may take before the call counts as failed. */
export const REPLY_TIMEOUT_MS = 2000;

interface Owed {
  at: number;
  resolve: (value: undefined) => void;
}

/**
 * Replies Redis owes, oldest first. A Redis that is frozen (stopped, swapping, a long script)
 * keeps the connection open and answers nothing; without a bound every caller would wait
 * with it, a tunnel lookup forever. Past the bound a call resolves `undefined`, as a failure does.
 */
export class ReplyDeadlines {
  private readonly owed = new Set<Owed>();
  private timer: Timer | undefined;

  /** `expired` is told how many calls ran out of time at one sweep. */
  constructor(private readonly expired: (count: number) => void) {}

  /** `reply`, or undefined if it does not come in time; then `late` gets it, should it come after all. */
  bound<T>(reply: Promise<T>, late?: (value: T) => void): Promise<T | undefined> {
    return new Promise((resolve) => {
      const owed: Owed = { at: performance.now(), resolve };
      this.owed.add(owed);
      if (!this.timer) {
        this.timer = setInterval(() => this.sweep(), REPLY_TIMEOUT_MS / 4);
        this.timer.unref();
      }
      void reply.then((value) => {
        if (this.owed.delete(owed)) resolve(value);
        else late?.(value);
      });
    });
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const cutoff = performance.now() - REPLY_TIMEOUT_MS;
    let count = 0;
    // A Set iterates in insertion order: the first one still in time ends the sweep.
    for (const owed of this.owed) {
      if (owed.at > cutoff) break;
      this.owed.delete(owed);
      owed.resolve(undefined);
      count++;
    }
    if (this.owed.size === 0) this.close();
    if (count > 0) this.expired(count);
  }
}
