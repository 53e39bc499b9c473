/**
 * Hit counts gathered in memory and written once per interval instead of once
 * per request. A write that fails puts its counts back for the next flush.
 */
export class HitBatch {
  private pending = new Map<string, number>();
  private readonly timer: Timer;

  constructor(
    intervalMs: number,
    /** Adds each count to its pod and stamps it as fetched now. */
    private readonly write: (batch: Map<string, number>) => void | Promise<void>,
  ) {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  add(id: string): void {
    this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
  }

  /** Hits not written yet, so reads can include them. */
  pendingFor(id: string): number {
    return this.pending.get(id) ?? 0;
  }

  forget(id: string): void {
    this.pending.delete(id);
  }

  /** A synchronous `write` has run by the time this returns (before any await). */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.write(batch);
    } catch (error) {
      for (const [id, n] of batch) this.pending.set(id, (this.pending.get(id) ?? 0) + n);
      throw error;
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
