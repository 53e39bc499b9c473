/**
 * How many frames a peer socket may send, by what it is doing: a flat bucket for
 * everything, plus an allowance for each peer it is negotiating with (sent an
 * offer or answer to in the last `partnerWindowMs`). A peer that connects a whole
 * room (a host, a mesh member) gets room to do it; one that floods a single peer,
 * or addresses peers that are not there, gets only the flat rate.
 * Until the shared per-activity budget (src/limits/) lands, this is its policy for peers.
 */
export interface BudgetPolicy {
  /** Frames per second for anything; bursts of twice that. */
  baseRate: number;
  /** More frames per second for each peer being negotiated with; a new one brings a burst of twice that. */
  partnerRate: number;
  /** Partners counted at most (the room size: more cannot be real). */
  maxPartners: number;
  partnerWindowMs: number;
}

export class MessageBudget {
  private tokens: number;
  private refilledAt: number;
  /** Partner key → when this socket last sent it an offer or answer. */
  private readonly partners = new Map<string, number>();

  constructor(private readonly policy: BudgetPolicy, now = performance.now()) {
    this.tokens = policy.baseRate * 2;
    this.refilledAt = now;
  }

  /** Takes one frame's token. Refills only once the bucket is empty, so most frames read no clock. */
  take(): boolean {
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    const now = performance.now();
    this.forgetQuiet(now);
    this.tokens = Math.min(this.burst(), this.tokens + ((now - this.refilledAt) / 1000) * this.rate());
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** The current frames per second. */
  rate(): number {
    return this.policy.baseRate + this.policy.partnerRate * this.partners.size;
  }

  /** An offer or answer went to `peer`. */
  negotiating(peer: string, now = performance.now()): void {
    const known = this.partners.delete(peer); // re-inserted last: the map stays oldest first
    if (!known && this.partners.size >= this.policy.maxPartners) return;
    this.partners.set(peer, now);
    if (!known) this.tokens = Math.min(this.burst(), this.tokens + this.policy.partnerRate * 2);
  }

  /** The call with `peer` ended. */
  ended(peer: string): void {
    this.partners.delete(peer);
  }

  /** `peer` was not there to address: its burst is taken back, so strangers earn nothing. */
  notThere(peer: string): void {
    if (this.partners.delete(peer)) this.tokens = Math.max(0, this.tokens - this.policy.partnerRate * 2);
  }

  partnerCount(): number {
    return this.partners.size;
  }

  private burst(): number {
    return this.rate() * 2;
  }

  private forgetQuiet(now: number): void {
    const cutoff = now - this.policy.partnerWindowMs;
    for (const [peer, at] of this.partners) {
      if (at > cutoff) break;
      this.partners.delete(peer);
    }
  }
}
