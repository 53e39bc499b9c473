// Steady traffic on every protocol the server speaks. A protocol added later plugs in
// a generator here: what it sets up, one operation (resolves when answered, throws when
// refused), how often, and optionally how its own client is dropped (a soak fault) and
// what it must still find at the end (e.g. pods lost).
import type { OpLog } from "./op-log.ts";

export interface TrafficContext {
  /** Base URLs of the cluster's nodes (a node that was killed comes back at the same URL). */
  nodes: readonly string[];
  log: OpLog;
  /** A scratch directory for keys and the like. */
  dir: string;
}

export interface TrafficGenerator {
  protocol: string;
  /** Milliseconds between operations. */
  everyMs: number;
  /** Most operations of this protocol in flight; past it, the next one waits (faults make them slow). */
  maxInFlight?: number;
  /** Long-lived parts: origins, a tunnel client. */
  start?(ctx: TrafficContext): Promise<void>;
  op(ctx: TrafficContext): Promise<void>;
  /** A soak fault: this protocol's own client drops (and comes back by itself or is restarted here). */
  dropClient?(ctx: TrafficContext): Promise<void>;
  /** At the end: what was stored and is now missing (pods lost). */
  lost?(ctx: TrafficContext): Promise<{ stored: number; lost: number }>;
  stop?(): Promise<void>;
}

/** Two different node indexes, at random. */
export function twoNodes(n: number): [number, number] {
  const a = Math.floor(Math.random() * n);
  return [a, (a + 1 + Math.floor(Math.random() * (n - 1))) % n];
}

export const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
export const wsUrl = (base: string, path: string) => `${base.replace(/^http/, "ws")}${path}`;
