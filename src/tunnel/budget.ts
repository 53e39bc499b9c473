// Message budget for one /.tunnel socket, by what it is doing. Frames about live
// requests are allowed in proportion to the requests it serves (a model's token
// stream is many small frames); frames that move a lot of bytes are paid for by
// the flow-control window instead, and earn the small frames that travel with
// them. Junk — errors, unknown ids — has a small flat allowance. (To be folded
// into the shared limits module.)
import { SMALL_FRAME_BYTES } from "./protocol.ts";

/** Small frames per second each live request may use; bursts of twice that. */
export const FRAMES_PER_REQUEST = 1000;

interface Bucket {
  tokens: number;
  at: number;
}

function take(bucket: Bucket, rate: number, burst: number): boolean {
  const now = performance.now();
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
  bucket.at = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

export class TunnelBudget {
  private readonly work: Bucket;
  private readonly junk: Bucket;
  private live = 0;
  private peak = 0;
  private peakAt = 0;

  /** `idleRate`: frames per second a socket serving nothing may send (sign-in, register, late frames). */
  constructor(
    private readonly idleRate: number,
    private readonly junkRate: number,
  ) {
    const at = performance.now();
    this.work = { tokens: idleRate * 2, at };
    this.junk = { tokens: junkRate * 2, at };
  }

  /** A well-formed frame, with `live` requests in flight. */
  frame(live: number, bytes: number): boolean {
    // Each new request brings its allowance with it, so a burst of real answers never waits for the refill.
    if (live > this.live) this.work.tokens += (live - this.live) * FRAMES_PER_REQUEST;
    this.live = live;
    // The burst follows the busiest moment of the last second: when many requests end at
    // once, their last frames (already on their way) still fit.
    const now = performance.now();
    if (live >= this.peak || now - this.peakAt > 1000) {
      this.peak = live;
      this.peakAt = now;
    }
    const burst = (this.idleRate + this.peak * FRAMES_PER_REQUEST) * 2;
    if (bytes >= SMALL_FRAME_BYTES) {
      // A big frame also pays for the small ones a download brings along: a local server's
      // 64 KiB writes reach the client split at socket reads, a few bytes left over from each.
      this.work.tokens = Math.min(burst, this.work.tokens + bytes / SMALL_FRAME_BYTES);
      return true;
    }
    return take(this.work, this.idleRate + live * FRAMES_PER_REQUEST, burst);
  }

  /** A frame that was wrong. */
  wrong(): boolean {
    return take(this.junk, this.junkRate, this.junkRate * 2);
  }
}
