import { errorFields, type Logger } from "../log/logger.ts";
import { RateHistory } from "./rate-history.ts";
import type { ConsoleSnapshot, ConsoleStatusProvider } from "./status.ts";

export interface SamplerOptions {
  status: ConsoleStatusProvider;
  /** How much sessions-per-second history the sparkline shows. */
  historySeconds?: number;
  intervalMs?: number;
  /** Every snapshot, serialised once, for all live consoles. */
  onSnapshot: (json: string) => void;
  log: Logger;
}

/**
 * The console's one ticker: once a second it reads the status, records the
 * sessions-started counter and serialises the result once for every viewer.
 * The page is rendered from the latest snapshot too, so no request reaches the
 * status provider (or the registry's count) directly.
 */
export class StatusSampler {
  private readonly history: RateHistory;
  private readonly startedAt = performance.now();
  private readonly timer: Timer;
  private latest: ConsoleSnapshot | undefined;
  private latestJson: string | undefined;
  private readonly first: Promise<void>;
  private busy = false;
  private failed = false;

  constructor(private readonly options: SamplerOptions) {
    this.history = new RateHistory(options.historySeconds ?? 300);
    this.first = this.tick();
    this.timer = setInterval(() => void this.tick(), options.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** The latest snapshot, waiting for the first one at startup. */
  async snapshot(): Promise<ConsoleSnapshot> {
    await this.first;
    if (!this.latest) throw new Error("console status is unavailable");
    return this.latest;
  }

  /** The latest snapshot as serialised for the viewers, if there is one. */
  async json(): Promise<string | undefined> {
    await this.first;
    return this.latestJson;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    // A slow provider (a big registry count) skips ticks rather than piling them up.
    if (this.busy) return;
    this.busy = true;
    try {
      const status = await this.options.status();
      this.history.record(status.sessionsStarted);
      this.latest = {
        ...status,
        uptimeSeconds: Math.floor((performance.now() - this.startedAt) / 1000),
        sessionsPerSecond: this.history.values(),
      };
      this.latestJson = JSON.stringify(this.latest);
      this.failed = false;
      this.options.onSnapshot(this.latestJson);
    } catch (error) {
      // Logged once per outage, not once a second.
      if (!this.failed) this.options.log.error("console status failed", errorFields(error));
      this.failed = true;
    } finally {
      this.busy = false;
    }
  }
}
