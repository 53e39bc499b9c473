/**
 * What a websocket may send, budgeted by what it is doing rather than by a flat rate.
 *
 * Every socket has a flat token bucket (`perSecond`, bursts of twice that) for frames
 * that belong to nothing it is doing: junk, unknown ids, registers, floods. Each piece
 * of work the server hands a socket (a signaling session, a tunnelled request) carries
 * its own allowance of frames, kept by the caller as a plain number on that work's
 * record; frames of that work are paid from it and leave the bucket untouched. So a
 * busy socket's allowance grows with the work it is given, and a flood still runs dry.
 *
 * Per frame, with no allocation and (while tokens last) no clock read:
 *   if (!budget.charge(socket)) → send an error, close 1008   // before parsing
 *   ...parse it, find the work it belongs to...
 *   work.left = budget.payFrom(socket, work.left)              // part of live work
 *   budget.paySpare(socket)                                    // a late frame of ended work
 * When work ends with allowance unused, `spill` keeps some of it (up to `spareCap`) as
 * the socket's spare, for the stragglers a peer still sends about it (late candidates).
 */

/** The budget's state, inline on a socket's data so the check allocates nothing. */
export interface BudgetedSocket {
  /** Starts full: `burst`. */
  tokens: number;
  refilledAt: number;
  /** Allowance left over from ended work, for its late frames. */
  spare: number;
}

export class FrameBudget {
  readonly burst: number;

  constructor(
    /** Frames per second outside any work. */
    readonly perSecond: number,
    /** Most leftover allowance a socket keeps for late frames. */
    readonly spareCap: number,
  ) {
    this.burst = perSecond * 2;
  }

  /** Takes a token for the frame just received; false when the socket is over its rate. */
  charge(s: BudgetedSocket): boolean {
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return true;
    }
    // Refill only once the bucket is empty, so most frames cost no clock read.
    const now = performance.now();
    s.tokens = Math.min(this.burst, s.tokens + ((now - s.refilledAt) / 1000) * this.perSecond);
    s.refilledAt = now;
    if (s.tokens < 1) return false;
    s.tokens -= 1;
    return true;
  }

  /** The charged frame belongs to work with `left` frames of allowance: pays from it if any is left. Returns what is left. */
  payFrom(s: BudgetedSocket, left: number): number {
    if (left <= 0) return left;
    s.tokens += 1; // refunds this frame's token: charge() took one, so the bucket stays within its burst
    return left - 1;
  }

  /** The charged frame is about work that has ended: pays from the spare if any is left. */
  paySpare(s: BudgetedSocket): void {
    s.spare = this.payFrom(s, s.spare);
  }

  /** Work ended with `left` frames unused: keeps them as spare, up to the cap. */
  spill(s: BudgetedSocket, left: number): void {
    if (left > 0) s.spare = Math.min(this.spareCap, s.spare + left);
  }
}
