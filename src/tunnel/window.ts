// Flow-control windows that grow to the path (see "Growing windows" in docs/tunnel-protocol.md).
// A fixed window caps a body at window ÷ RTT: 512 KiB over 100 ms is 5 MiB/s. The receiver of a
// body owns its window, because the receiver is who buffers it; the sender only says when it ran
// out of credit (`blocked`). The receiver then doubles the window if its own buffer is nearly
// empty (the bytes were in the pipe, not waiting for a slow reader) and the window is all in
// flight (under 1.5× the arrival rate times the path's smallest round trip): past that, more
// window only queues bytes in socket buffers, ahead of other requests' answers. Memory budgets
// (per tunnel, global) bound the sum.
import { SMALL_FRAME_BYTES } from "./protocol.ts";

/**
 * A window-limited body has its whole window in flight: window ≈ rate × round trip, the round
 * trip a little over the path's smallest (credit goes back in quarter windows). Half as much
 * again is the slack for that; a window beyond it is queued somewhere, and doubling it would
 * only double the queue (on loopback, 512 KiB at 300 MB/s is ~1.7 ms against a round trip of
 * well under one: nothing grows there, and small answers do not wait behind megabytes).
 */
export const IN_FLIGHT_SLACK = 1.5;

/** A doubling must make the body this much faster, or it is taken back (GrowthState has the rule for growing). */
export const GROWTH_GAIN = 1.2;

/**
 * A rate is measured over a window's worth of bytes and at least this long: on a busy machine a
 * window can come out of a socket buffer at memory speed in a fraction of a millisecond, which
 * says nothing about the path.
 */
export const MIN_SAMPLE_MS = 10;

/** Every body gets this much window, whatever the budgets say, so it always moves. */
export const MIN_WINDOW = 64 * 1024;

export interface GrowthState {
  /** The receiver's window now. */
  window: number;
  max: number;
  /** The window the sender knew when it ran out of credit. */
  senderWindow: number;
  /** Bytes the receiver holds: received but not yet taken, or taken but not yet credited back. */
  held: number;
  /** Bytes per ms at which the last two windows' worth arrived (the slower); undefined before two did. */
  rate: number | undefined;
  /** The path's smallest round trip (ms); undefined before one was measured. */
  minRttMs: number | undefined;
}

/** The growth rule: the window this receiver should have after the sender said it was blocked. */
export function grownWindow(s: GrowthState): number {
  // A stale report (sent before our last doubling reached the sender) says nothing about the new window.
  if (s.senderWindow !== s.window || s.window >= s.max) return s.window;
  // Half the window waiting here means the reader is slow: more window would only buffer more.
  if (s.held > s.window / 2) return s.window;
  if (s.rate === undefined || s.minRttMs === undefined) return s.window;
  // The window is not all in flight: part of it is queued, and would be twice as much queued.
  if (s.window >= IN_FLIGHT_SLACK * s.rate * s.minRttMs) return s.window;
  return Math.min(s.max, s.window * 2);
}

/** Memory for windows beyond each body's first MIN_WINDOW: one tunnel's share, inside the broker's. */
export class WindowBudget {
  private used = 0;

  constructor(
    private readonly limit: number,
    private readonly parent?: WindowBudget,
  ) {}

  /** Up to `bytes` of it, as much as this budget and its parent have left. */
  take(bytes: number): number {
    const n = Math.max(0, Math.min(bytes, this.available()));
    this.charge(n);
    return n;
  }

  give(bytes: number): void {
    this.charge(-bytes);
  }

  /** Bytes taken and not given back. */
  inUse(): number {
    return this.used;
  }

  private available(): number {
    return Math.min(this.limit - this.used, this.parent ? this.parent.available() : Number.POSITIVE_INFINITY);
  }

  private charge(n: number): void {
    this.used += n;
    this.parent?.charge(n);
  }
}

/** No limit: a fixed window that was already granted (an older client's) is not budgeted. */
export const UNBUDGETED = new WindowBudget(Number.POSITIVE_INFINITY);

/** One tunnel's growing windows (either end): where a body's window starts, and the memory they share. */
export interface GrowingWindows {
  budget: WindowBudget;
  /** The first window of a body: as large as this tunnel's bodies grew to. */
  start(): number;
  /** A body's window grew to `window`. */
  grew(window: number): void;
  /** A body's window of `window` was more than the path holds: later bodies start smaller. */
  oversized(window: number): void;
}

/**
 * A new body starts at the largest window this tunnel's bodies grew to (a path's delay and rate
 * outlive one request, as TCP keeps a route's metrics), else at `first`; the budget decides how
 * much of that it gets. A body whose window proved too big halves it again (not below `first`).
 */
export function growingWindows(first: number, budget: WindowBudget): GrowingWindows {
  let learned = first;
  return {
    budget,
    start: () => learned,
    grew: (window) => void (learned = Math.max(learned, window)),
    oversized: (window) => void (learned = Math.max(first, Math.min(learned, window / 2))),
  };
}

/** What a receiver does about a `blocked` report. */
export type Verdict = { kind: "grow"; extra: number } | { kind: "shrink"; from: number } | { kind: "keep" };

/** The receiving side of one body: its window, how fast bytes arrive, and when it grows. */
export class ReceiveWindow {
  window: number;
  /** Arrival rates of the last two windows' worth: a burst out of a socket buffer is one fast window, not two. */
  private rates: number[] = [];
  private epochStart: number;
  private epochBytes = 0;
  /** The last doubling, until a rate measured after it shows whether it made the body faster. */
  private before?: { window: number; rate: number | undefined };
  /** A doubling that bought nothing was taken back, and this body grows no more. */
  private settled = false;
  /** Credit still to withhold after shrinking (the sender may hold it already). */
  private debt = 0;
  /** The budget a shrink took back, returned once its debt is paid (the body may stream for hours). */
  private shrunk = 0;
  private reserved: number;
  private released = false;

  /** `start`: the window wanted at first; the budget may grant less, never under `floor` (which it does not count). */
  constructor(
    start: number,
    readonly max: number,
    private readonly budget: WindowBudget,
    private readonly floor = MIN_WINDOW,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.epochStart = clock();
    const free = Math.min(start, floor);
    this.reserved = budget.take(start - free);
    this.window = free + this.reserved;
  }

  /** The most the sender may have sent and we not yet credited back: the window, or more while a shrink is paid off. */
  limit(): number {
    return this.window + this.debt;
  }

  /** `bytes` of the body arrived. */
  arrived(bytes: number): void {
    this.epochBytes += bytes;
    if (this.epochBytes < this.window) return;
    const now = this.clock();
    if (now - this.epochStart < MIN_SAMPLE_MS) return;
    this.rates = [...this.rates.slice(-1), this.epochBytes / Math.max(now - this.epochStart, 0.01)];
    this.epochStart = now;
    this.epochBytes = 0;
  }

  /** Of `bytes` taken by the reader and due back as credit, how many are withheld to pay off a shrink. */
  withhold(bytes: number): number {
    const n = Math.min(bytes, this.debt);
    this.debt -= n;
    if (this.debt === 0 && this.shrunk > 0) {
      this.reserved -= this.shrunk;
      this.budget.give(this.shrunk);
      this.shrunk = 0;
    }
    return n;
  }

  /** The sender ran out of credit knowing `senderWindow`. */
  blocked(senderWindow: number, held: number, minRttMs: number | undefined): Verdict {
    if (this.released || this.settled) return { kind: "keep" };
    const rate = this.rate();
    if (this.before) {
      if (rate === undefined) return { kind: "keep" };
      // The doubling did not make the body faster: the window was not what limited it (the CPU,
      // a reader) and the extra only queues. Back to where it was.
      if (this.before.rate !== undefined && rate < this.before.rate * GROWTH_GAIN) {
        const from = this.window;
        this.debt += this.window - this.before.window;
        this.shrunk = this.window - this.before.window;
        this.window = this.before.window;
        this.settled = true;
        return { kind: "shrink", from };
      }
      this.before = undefined;
    }
    const target = grownWindow({ window: this.window, max: this.max, senderWindow, held, rate, minRttMs });
    if (target <= this.window) return { kind: "keep" };
    const extra = this.budget.take(target - this.window);
    // Slivers of growth are not worth a round trip.
    if (extra < SMALL_FRAME_BYTES) {
      this.budget.give(extra);
      return { kind: "keep" };
    }
    this.reserved += extra;
    this.before = { window: this.window, rate };
    this.window += extra;
    // Rates measured with the smaller window say nothing about this one.
    this.rates = [];
    this.epochStart = this.clock();
    this.epochBytes = 0;
    return { kind: "grow", extra };
  }

  /** The body is over: its memory goes back to the budgets. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.shrunk = 0;
    this.budget.give(this.reserved);
  }

  private rate(): number | undefined {
    return this.rates.length === 2 ? Math.min(this.rates[0]!, this.rates[1]!) : undefined;
  }
}

/** The sending side of one body: credit to spend, the window it knows, and when to say it is blocked. */
export class SendCredit {
  credit: number;
  private sinceReport: number;

  /** `max`: the largest window the receiver may grow to; 0 for a receiver that never grows (never told it is blocked). */
  constructor(
    public window: number,
    private readonly max: number,
  ) {
    this.credit = window;
    this.sinceReport = window;
  }

  spent(bytes: number): void {
    this.credit -= bytes;
    this.sinceReport += bytes;
  }

  /** A `credit` frame; `window` when the receiver grew. Credit never exceeds the largest window. */
  granted(bytes: number, window?: number): void {
    if (window !== undefined && window > this.window) this.window = Math.min(window, Math.max(this.max, this.window));
    this.credit = Math.min(this.credit + bytes, Math.max(this.window, this.max));
  }

  /**
   * Out of credit with bytes to send: whether to tell the receiver (with `window`). At most once
   * per window's worth of bytes sent, and never to a receiver at its largest window or one that
   * does not grow.
   */
  reportBlocked(): boolean {
    if (this.window >= this.max || this.sinceReport < this.window) return false;
    this.sinceReport = 0;
    return true;
  }
}
