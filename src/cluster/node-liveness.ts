import { errorFields } from "../log/logger.ts";
import type { RedisLink } from "./redis-link.ts";
import { HEARTBEAT } from "./redis-scripts.ts";

export interface LivenessEvents {
  /** Another node stopped heartbeating for longer than the TTL. */
  dead(node: string): void;
  /** Others may have counted this node as dead (first beat, a gap, a Redis restart): announce again. */
  absent(): void;
}

/**
 * Heartbeats in a sorted set scored by Redis time, so nodes' clocks need not agree.
 * A node is dead when its last heartbeat is older than the TTL; a node missing from the
 * set (Redis restarted empty) is dead only once this node has not seen it for the TTL.
 * After a gap in this node's own beats, nobody is judged by the gap.
 */
export class NodeLiveness {
  /** Nodes seen alive, with the local time they were last seen. */
  private readonly seen = new Map<string, number>();
  /** Dead nodes, with when they were found dead (dropped after a while: bounded). */
  private readonly dead = new Map<string, number>();
  private readonly timer: Timer;
  private beating = false;
  private lastBeatOk = false;
  /** Redis time before which a stale heartbeat proves nothing: this node was away too. */
  private graceUntil = 0;
  /** Local time of the last heartbeat reply read. */
  private lastRead = -Infinity;

  constructor(
    private readonly link: RedisLink,
    private readonly self: string,
    private readonly ttlMs: number,
    private readonly events: LivenessEvents,
  ) {
    // Beats well inside the TTL, and often enough that a death is noticed within TTL + ~0.5 s.
    this.timer = setInterval(() => void this.beat(), heartbeatInterval(ttlMs));
    this.timer.unref();
  }

  healthy(): boolean {
    return this.lastBeatOk;
  }

  /** A node not yet seen counts as alive: it may have joined since the last beat. */
  isAlive(node: string): boolean {
    return !this.dead.has(node);
  }

  /** `node` just sent this node a message: alive, whatever this node last read of its heartbeat. */
  heard(node: string): void {
    if (node === this.self) return;
    this.seen.set(node, performance.now());
    this.dead.delete(node);
  }

  liveCount(): number {
    return this.seen.size + (this.seen.has(this.self) ? 0 : 1);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const reply = await this.link.run(HEARTBEAT, ["gp:nodes"], [this.self, String(this.ttlMs)]);
      this.lastBeatOk = Array.isArray(reply);
      if (this.lastBeatOk) this.read(reply as [string, string, string[]]);
    } catch (error) {
      // A listener that threw must not end the process nor stop the heartbeat.
      this.lastBeatOk = false;
      this.link.logger.error("cluster: heartbeat failed", errorFields(error));
    } finally {
      this.beating = false;
    }
  }

  private read([nowText, previous, entries]: [string, string, string[]]): void {
    const now = Number(nowText);
    const local = performance.now();
    const away = previous === "" || now - Number(previous) > this.ttlMs;
    // A frozen Redis runs the beats it queued all at once, and the first one (the one that saw
    // the gap) had timed out here: this node's own silence tells the same.
    const blind = local - this.lastRead > this.ttlMs;
    this.lastRead = local;
    if (away || blind) {
      // This node could not beat or read either: whoever was away with it gets a TTL from
      // now to beat again before it counts as dead.
      this.graceUntil = now + this.ttlMs;
      for (const node of this.seen.keys()) this.seen.set(node, local);
    }
    if (away) this.events.absent();
    const listed = new Set<string>();
    for (let i = 0; i + 1 < entries.length; i += 2) {
      const node = entries[i]!;
      listed.add(node);
      if (node === this.self) continue;
      if (now - Number(entries[i + 1]) <= this.ttlMs) {
        this.seen.set(node, local);
        this.dead.delete(node);
      } else if (now > this.graceUntil) this.died(node, local);
    }
    for (const [node, at] of this.seen) if (!listed.has(node) && local - at > this.ttlMs) this.died(node, local);
    for (const [node, at] of this.dead) if (local - at > this.ttlMs * 10) this.dead.delete(node);
  }

  private died(node: string, local: number): void {
    this.seen.delete(node);
    if (this.dead.has(node)) return;
    this.dead.set(node, local);
    this.events.dead(node);
  }
}

export function heartbeatInterval(ttlMs: number): number {
  return Math.max(50, Math.min(ttlMs / 5, 500));
}
