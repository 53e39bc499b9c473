// Every operation the soak's traffic tried: when it started, when (and how) it ended.
// An operation that neither succeeds nor fails by its deadline is "never answered".

export interface Op {
  protocol: string;
  start: number;
  end?: number;
  /** undefined: never answered by the deadline. */
  ok?: boolean;
  error?: string;
}

/** Thrown by an operation that waited its whole allowance and heard nothing: never answered, not failed. */
export class Unanswered extends Error {}

/** How long an operation may wait for its answer: past the server's own deadlines (30 s answer and tunnel timeouts). */
export const ANSWER_WAIT_MS = 40_000;

/** Times in ms since the soak began, so fault windows and ops share one clock. */
export class OpLog {
  /** Resolves once no operation is running (or after `ms`). */
  async settled(ms = ANSWER_WAIT_MS + 6000): Promise<void> {
    const deadline = Date.now() + ms;
    while ([...this.inFlight.values()].some((n) => n > 0) && Date.now() < deadline) await Bun.sleep(100);
  }

  readonly ops: Op[] = [];
  private readonly inFlight = new Map<string, number>();
  private readonly t0 = performance.now();

  now(): number {
    return performance.now() - this.t0;
  }

  /** How many of `protocol`'s operations are still running (generators bound their concurrency by it). */
  running(protocol: string): number {
    return this.inFlight.get(protocol) ?? 0;
  }

  /** Runs one operation: `fn` resolves (ok) or throws (failed; Unanswered: never answered, as is still running past `deadlineMs`). */
  async run(protocol: string, fn: () => Promise<void>, deadlineMs = ANSWER_WAIT_MS + 5000): Promise<void> {
    const op: Op = { protocol, start: this.now() };
    this.ops.push(op);
    this.inFlight.set(protocol, this.running(protocol) + 1);
    let timer: Timer | undefined;
    const deadline = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), deadlineMs)));
    try {
      const outcome = await Promise.race([fn().then(() => "ok" as const), deadline]);
      if (outcome === "ok") Object.assign(op, { ok: true, end: this.now() });
      else op.error = `still running after ${deadlineMs} ms`;
    } catch (error) {
      const silent = error instanceof Unanswered;
      Object.assign(op, { ok: silent ? undefined : false, end: this.now(), error: String((error as Error)?.message ?? error).slice(0, 200) });
    } finally {
      clearTimeout(timer);
      this.inFlight.set(protocol, this.running(protocol) - 1);
    }
  }
}
