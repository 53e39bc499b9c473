// Flow-control windows that grow to the path (see "Growing windows" in docs/tunnel-protocol.md).
// A fixed window caps a body at window ÷ RTT: 512 KiB over 100 ms is 5 MiB/s. The receiver of a
// body owns its window, because the receiver is who buffers it; the sender only says when it ran
// out of credit (`blocked`). The receiver then doubles the window if its own buffer is nearly
// empty (the bytes were in the pipe, not waiting for a slow reader) and the window is still under
// twice what the path holds (the arrival rate times the path's smallest round trip): past that,
// more window only queues bytes in socket buffers, ahead of other requests' answers. Memory
// budgets (per tunnel, global) bound the sum.
import { SMALL_FRAME_BYTES } from "./protocol.ts";

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
  /** Bytes per ms that arrived over the last window's worth; undefined before a window arrived. */
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
  // Twice the bandwidth-delay product covers the credit on its way back; past it the bytes
  // are queued, not in flight (on loopback, where the path holds a few KiB, nothing grows).
  if (s.window >= 2 * s.rate * s.minRttMs) return s.window;
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
}

/**
 * A new body starts at the largest window this tunnel's bodies grew to (a path's delay and rate
 * outlive one request, as TCP keeps a route's metrics), else at `first`; the budget decides how
 * much of that it gets.
 */
export function growingWindows(first: number, budget: WindowBudget): GrowingWindows {
  let learned = first;
  return {
    budget,
    start: () => learned,
    grew: (window) => void (learned = Math.max(learned, window)),
  };
}

/** The receiving side of one body: its window, how fast bytes arrive, and when it grows. */
export class ReceiveWindow {
  window: number;
  private rate: number | undefined;
  private epochStart = performance.now();
  private epochBytes = 0;
  private released = false;

  /** `start`: the window wanted at first; the budget may grant less, never under `floor` (which it does not count). */
  constructor(
    start: number,
    readonly max: number,
    private readonly budget: WindowBudget,
    private readonly floor = MIN_WINDOW,
  ) {
    const free = Math.min(start, floor);
    this.window = free + budget.take(start - free);
  }

  /** `bytes` of the body arrived. */
  arrived(bytes: number): void {
    this.epochBytes += bytes;
    if (this.epochBytes < this.window) return;
    const now = performance.now();
    this.rate = this.epochBytes / Math.max(now - this.epochStart, 0.01);
    this.epochStart = now;
    this.epochBytes = 0;
  }

  /** The sender ran out of credit knowing `senderWindow`; returns the extra credit granted (0: none). */
  blocked(senderWindow: number, held: number, minRttMs: number | undefined): number {
    if (this.released) return 0;
    const target = grownWindow({ window: this.window, max: this.max, senderWindow, held, rate: this.rate, minRttMs });
    if (target <= this.window) return 0;
    const extra = this.budget.take(target - this.window);
    // Slivers of growth are not worth a round trip.
    if (extra < SMALL_FRAME_BYTES) {
      this.budget.give(extra);
      return 0;
    }
    this.window += extra;
    return extra;
  }

  /** The body is over: its memory goes back to the budgets. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.window - Math.min(this.window, this.floor));
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
