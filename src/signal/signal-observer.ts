import { Logger } from "../log/logger.ts";
import { RefusalSummary } from "../log/refusal-summary.ts";
import { declareServerMetrics, type LimitName, type ServerMetrics, type SessionFailure } from "../metrics/server-metrics.ts";

/** What the broker reports about sessions and limits: counted in metrics, notable ones logged. */
export class SignalObserver {
  /** Per relayed frame: `frames.offer.inc()` is one property read and an add. */
  readonly frames: ServerMetrics["frames"];

  constructor(
    private readonly metrics: ServerMetrics,
    readonly log: Logger,
    private readonly summary: RefusalSummary,
  ) {
    this.frames = metrics.frames;
  }

  /** For a broker made without one (library use, tests): counts into its own registry, logs nothing. */
  static detached(): SignalObserver {
    const log = Logger.silent();
    return new SignalObserver(declareServerMetrics(), log, new RefusalSummary(log));
  }

  refused(limit: LimitName): void {
    this.metrics.refusals[limit].inc();
    this.summary.count(limit);
  }

  sessionStarted(): void {
    this.metrics.sessionsStarted.inc();
  }

  /** The first answer of a session offered at `openedAt` (performance.now()). */
  sessionAnswered(openedAt: number): void {
    this.metrics.sessionsAnswered.inc();
    this.metrics.answerLatency.observe((performance.now() - openedAt) / 1000);
  }

  /** An offer refused on arrival: counted, logged only at debug (visitors retry in bursts). */
  offerRefused(reason: SessionFailure, podId: string): void {
    this.metrics.sessionsFailed[reason].inc();
    if (this.log.enabled("debug")) this.log.debug("offer refused", { podId, reason });
  }

  /** A started session that ended without an answer. */
  sessionFailed(reason: SessionFailure, podId: string, sessionId: string, openedAt: number): void {
    this.metrics.sessionsFailed[reason].inc();
    this.log.info("session failed", { podId, sessionId, reason, ageMs: Math.round(performance.now() - openedAt) });
  }
}
