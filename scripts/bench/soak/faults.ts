// The soak's fault schedule: one fault at a time (some are two at once, as users meet them),
// every `spacingMs`, cycling through the kinds. Each fault's window runs from its start to its
// end plus a grace for recovery (the cluster TTL, clients' reconnects); failures inside a
// window are expected.
import type { OpLog } from "./op-log.ts";
import { CLUSTER_TTL_MS, type SoakCluster } from "./soak-cluster.ts";
import type { TrafficContext, TrafficGenerator } from "./traffic.ts";

/** After a fault ends: a dead node's claims expire (TTL), clients reconnect (backoff), Postgres pools reconnect. */
export const RECOVERY_GRACE_MS = CLUSTER_TTL_MS + 4000;

export interface Fault {
  name: string;
  run(): Promise<void>;
}

export interface FaultWindow {
  name: string;
  start: number;
  /** How long the fault itself lasted (a stop that hangs shows here). */
  ranMs: number;
  end: number;
}

export function faultKinds(cluster: SoakCluster, traffic: readonly TrafficGenerator[], ctx: TrafficContext): Fault[] {
  const last = cluster.nodes.length - 1;
  const frozen = async (whileFrozen: () => Promise<void>) => {
    cluster.redis.freeze();
    try {
      await whileFrozen();
    } finally {
      cluster.redis.thaw();
    }
  };
  // In this order, so that the 60-second test meets both overlapping faults among its first six.
  return [
    { name: "a node killed (-9) and restarted", run: async () => (await cluster.killNode(last), await Bun.sleep(2000), await cluster.startNode(last)) },
    { name: "Redis restarted (empty)", run: async () => (await cluster.redis.kill(), await Bun.sleep(500), await cluster.redis.start()) },
    { name: "Redis frozen (SIGSTOP) past the TTL", run: () => frozen(() => Bun.sleep(CLUSTER_TTL_MS + 1500)) },
    { name: "Postgres and S3 stopped together", run: () => cluster.pg.restart(() => cluster.s3.restart(() => Bun.sleep(4000))) },
    // Its claims cannot expire while Redis is frozen: they must once it thaws. It restarts after the thaw.
    { name: "a node killed (-9) while Redis is frozen", run: async () => (await frozen(async () => (await cluster.killNode(last), await Bun.sleep(CLUSTER_TTL_MS + 1500))), await cluster.startNode(last)) },
    ...traffic.filter((g) => g.dropClient).map((g) => ({ name: `${g.protocol} client dropped`, run: () => g.dropClient!(ctx) })),
    { name: "Postgres stopped", run: () => cluster.pg.restart(() => Bun.sleep(4000)) },
    { name: "S3 stopped", run: () => cluster.s3.restart(() => Bun.sleep(4000)) },
  ];
}

/** Runs faults one after another until `untilMs` (on the log's clock); resolves with their windows. */
export async function runFaults(kinds: Fault[], log: OpLog, options: { firstAtMs: number; spacingMs: number; untilMs: number }): Promise<FaultWindow[]> {
  const windows: FaultWindow[] = [];
  for (let k = 0, at = options.firstAtMs; at < options.untilMs; k++, at += options.spacingMs) {
    await Bun.sleep(Math.max(0, at - log.now()));
    const fault = kinds[k % kinds.length]!;
    const start = log.now();
    await fault.run();
    windows.push({ name: fault.name, start, ranMs: log.now() - start, end: log.now() + RECOVERY_GRACE_MS });
  }
  return windows;
}
