/**
 * Per-second increments of a cumulative counter over a fixed window, in a ring
 * buffer: memory stays the same however long the server runs.
 */
export class RateHistory {
  private readonly samples: Uint32Array;
  private next = 0;
  private filled = 0;
  private last: number | undefined;

  constructor(readonly seconds: number) {
    this.samples = new Uint32Array(seconds);
  }

  /** Called once a second with the counter's current value. */
  record(cumulative: number): void {
    // The first reading only sets the baseline; a counter that went backwards (a restart) counts as 0.
    const delta = this.last === undefined ? 0 : Math.max(0, cumulative - this.last);
    this.last = cumulative;
    this.samples[this.next] = Math.min(delta, 0xffffffff);
    this.next = (this.next + 1) % this.seconds;
    this.filled = Math.min(this.filled + 1, this.seconds);
  }

  /** Oldest first; only the seconds recorded so far. */
  values(): number[] {
    const out: number[] = [];
    for (let i = this.filled; i > 0; i--) out.push(this.samples[(this.next - i + this.seconds) % this.seconds]!);
    return out;
  }
}
