/**
 * How many frames one tracker socket may send, by what it is doing: each swarm it is in
 * earns `perSwarm` frames per announce interval (a seeder in many swarms is not cut off),
 * a swarm it newly enters brings that many at once (its first announces come fast), and each
 * offer relayed to it earns the one answer it may send back. A socket that floods one
 * swarm gets only that swarm's share.
 */
export class AnnounceBudget {
  private tokens: number;
  private refilledAt: number;

  constructor(private readonly perSwarm: number, private readonly intervalMs: number, now = performance.now()) {
    this.tokens = perSwarm;
    this.refilledAt = now;
  }

  /** Takes one frame's token while the socket is in `swarms` swarms; refills only when empty, so most frames read no clock. */
  take(swarms: number): boolean {
    if (this.tokens < 1) {
      const now = performance.now();
      const capacity = this.capacity(swarms);
      this.tokens = Math.min(capacity, this.tokens + ((now - this.refilledAt) / this.intervalMs) * capacity);
      this.refilledAt = now;
      if (this.tokens < 1) return false;
    }
    this.tokens -= 1;
    return true;
  }

  /** The socket entered one more swarm (now `swarms`). */
  entered(swarms: number): void {
    this.tokens = Math.max(this.tokens, Math.min(this.capacity(swarms), this.tokens + this.perSwarm));
  }

  /** An offer reached the socket: one answer is owed. Bounded by a full swarm's worth of offers. */
  offered(maxOwed: number): void {
    if (this.tokens < this.perSwarm + maxOwed) this.tokens += 1;
  }

  private capacity(swarms: number): number {
    return this.perSwarm * Math.max(1, swarms);
  }
}
