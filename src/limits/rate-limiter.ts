/**
 * Token buckets keyed by client (usually IP): `burst` tokens, refilled at
 * `perSecond`. The map is bounded: when full, the least recently used key is
 * evicted (a fresh bucket is generous, never stricter, so eviction is safe).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** Takes one token; returns 0 if allowed, else the seconds until one is available. */
  take(key: string, cost = 1): number {
    const t = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-insert below to keep the map in LRU order
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((t - bucket.at) / 1000) * this.perSecond);
      bucket.at = t;
    } else {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = { tokens: this.burst, at: t };
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil((cost - bucket.tokens) / this.perSecond));
  }

  size(): number {
    return this.buckets.size;
  }
}
