import type { Logger } from "./logger.ts";

/**
 * Limit refusals come in floods; one log line each would be a flood of its own.
 * Counts per limit are logged as one summary line per limit per window instead,
 * the window starting at the first refusal (no timer runs while all is quiet).
 */
export class RefusalSummary {
  private readonly counts = new Map<string, number>();
  private timer: Timer | undefined;

  constructor(
    private readonly log: Logger,
    readonly windowMs = 10_000,
  ) {}

  /** `limit` is one of a fixed set of names, so the map stays small. */
  count(limit: string): void {
    this.counts.set(limit, (this.counts.get(limit) ?? 0) + 1);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.windowMs);
    this.timer.unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [limit, refused] of this.counts) this.log.warn("refused by a limit", { limit, refused, windowSeconds: this.windowMs / 1000 });
    this.counts.clear();
  }
}
