// The round trip of one /.tunnel socket, for sizing windows to the path (window.ts): each side
// of a tunnel with growing windows may send `{type:"ping", at}`, which the other side answers at
// once with `{type:"pong", at}`. A ping behind a busy body measures its queue too, so the
// smallest of them is kept: the path's own delay.

/** At most one ping a second: a sample when requests start, none while a tunnel is idle. */
const PING_EVERY_MS = 1000;
/** A pong later than this answers nothing we are waiting for. */
const MAX_RTT_MS = 30_000;

export class PathRtt {
  private min: number | undefined;
  private sentAt = Number.NEGATIVE_INFINITY;
  private waiting = false;

  /** The smallest round trip seen, in ms; undefined before the first pong. */
  minMs(): number | undefined {
    return this.min;
  }

  /** A ping to send now, if one is due. */
  ping(): { type: "ping"; at: number } | undefined {
    const now = performance.now();
    if (this.waiting ? now - this.sentAt < MAX_RTT_MS : now - this.sentAt < PING_EVERY_MS) return undefined;
    this.sentAt = now;
    this.waiting = true;
    return { type: "ping", at: now };
  }

  /** A pong: counted only if it answers the ping we sent (a made-up one cannot stretch the path). */
  pong(at: unknown): void {
    if (!this.waiting || at !== this.sentAt) return;
    this.waiting = false;
    const rtt = performance.now() - at;
    this.min = Math.min(this.min ?? Number.POSITIVE_INFINITY, rtt);
  }
}
