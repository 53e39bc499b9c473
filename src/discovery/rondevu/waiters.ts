/**
 * Long-poll wake-ups, keyed by session code. Bounded in total and per code: a
 * poll that finds no room simply answers at once, as a plain poll would.
 */
export class Waiters {
  private readonly byCode = new Map<string, Set<() => void>>();
  private total = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerCode: number,
  ) {}

  /** Resolves on `wake(code)`, after `ms`, or on `close()`; false if there was no room to wait. */
  wait(code: string, ms: number): Promise<void> | false {
    let set = this.byCode.get(code);
    if (this.total >= this.maxTotal || (set && set.size >= this.maxPerCode)) return false;
    if (!set) this.byCode.set(code, (set = new Set()));
    const waiters = set;
    this.total++;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (waiters.delete(done)) this.total--;
        if (waiters.size === 0 && this.byCode.get(code) === waiters) this.byCode.delete(code);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  wake(code: string): void {
    const set = this.byCode.get(code);
    if (set) for (const done of [...set]) done();
  }

  close(): void {
    for (const code of [...this.byCode.keys()]) this.wake(code);
  }

  size(): number {
    return this.total;
  }
}
