/**
 * How many frames a y-webrtc socket may send, by what it is doing: a flat rate
 * for anything, plus an allowance for each other peer in the rooms it subscribed
 * to. A newcomer to a room signals every peer there at once (an offer or answer
 * and its candidates each), so joining a room brings a burst sized by the room
 * (and one frame for its announce);
 * a socket alone, or one flooding, gets little more than the flat rate.
 */
export interface PublishPolicy {
  /** Frames per second for anything; bursts of twice that. */
  baseRate: number;
  /** More frames per second for each other peer in the socket's rooms. */
  peerRate: number;
  /** Frames a socket may send at once for each other peer in its rooms. */
  peerBurst: number;
}

export class PublishBudget {
  private tokens: number;
  private refilledAt: number;
  /** Rooms that brought their burst already: leaving and joining again brings none. */
  private readonly granted = new Set<string>();

  constructor(private readonly policy: PublishPolicy, private readonly maxGrants: number, now = performance.now()) {
    this.tokens = policy.baseRate * 2;
    this.refilledAt = now;
  }

  /** Takes one frame's token if the bucket has one; else `refill` decides. Most frames read no clock. */
  take(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** The bucket ran dry: refills it for the time since, with `peers` others in the socket's rooms, and takes a token if it can. */
  refill(peers: number): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.capacity(peers), this.tokens + ((now - this.refilledAt) / 1000) * this.rate(peers));
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** The socket entered `room` with `newPeers` others in it, `peers` in all its rooms now. */
  joined(room: string, newPeers: number, peers: number): void {
    if (this.granted.has(room) || this.granted.size >= this.maxGrants) return;
    this.granted.add(room);
    // Plus the announce y-webrtc sends in each room it subscribes to: a client reconnecting with
    // dozens of rooms (one per open document) sends them all at once, even rooms it is alone in.
    // Not clipped to the capacity, nor clipping what earlier rooms brought.
    const burst = Math.min(this.capacity(peers), this.tokens + this.policy.peerBurst * newPeers);
    this.tokens = Math.max(this.tokens, burst) + 1;
  }

  /** Frames per second with `peers` others in the socket's rooms. */
  rate(peers: number): number {
    return this.policy.baseRate + this.policy.peerRate * peers;
  }

  private capacity(peers: number): number {
    return this.policy.baseRate * 2 + this.policy.peerBurst * peers;
  }
}
