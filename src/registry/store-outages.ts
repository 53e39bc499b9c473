import { errorFields, type Logger } from "../log/logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { Registry } from "./types.ts";
import { STORE_ROLES, STORES, storageFailure, type StoreFailure, type StoreName } from "./outage.ts";

/** How often a store that is away is tried again. */
const PROBE_EVERY_MS = 1000;
/** A store with no probe is taken as back this long after its last failure. */
const UNPROBED_BACK_AFTER_MS = 10_000;

interface Away {
  since: Date;
  full: boolean;
  lastFailure: number;
}

export interface StoreAway {
  store: StoreName;
  /** ISO-8601: when a request first found it away. */
  since: string;
  /** The disk is full (507), rather than unreachable (503). */
  full?: true;
}

/**
 * The stores this node found away, from the errors requests met: each outage is
 * logged once when it starts and once when it ends, counted, shown on /health,
 * and probed every second until the store answers again.
 */
export class StoreOutages {
  private readonly away = new Map<StoreName, Away>();
  private timer?: Timer;
  private probing = false;
  private readonly outages;

  constructor(
    private readonly registry: Pick<Registry, "probeStore">,
    private readonly log: Logger,
    metrics: MetricsRegistry,
  ) {
    this.outages = metrics.counter({ name: "gemmapod_signal_storage_outages_total", help: "Times a store was found away (unreachable, or its disk full), by store.", labels: { store: STORES } }).byLabel();
    const away = metrics.gauge({ name: "gemmapod_signal_storage_away", help: "1 while a store is away (unreachable, or its disk full), by store.", labels: { store: STORES } }).byLabel();
    for (const store of STORES) away[store].track(() => (this.away.has(store) ? 1 : 0));
  }

  /** The store `error` says is away, now recorded; null when the error is not a store's. */
  noticed(error: unknown): StoreFailure | null {
    const failure = storageFailure(error);
    if (!failure) return null;
    const known = this.away.get(failure.store);
    if (known) {
      known.lastFailure = Date.now();
      known.full = failure.full;
      return failure;
    }
    this.away.set(failure.store, { since: new Date(), full: failure.full, lastFailure: Date.now() });
    this.outages[failure.store].inc();
    this.log.warn(failure.full ? "storage full" : "storage unreachable", { store: failure.store, ...errorFields(error) });
    this.timer ??= setInterval(() => void this.probe(), PROBE_EVERY_MS);
    this.timer.unref?.();
    return failure;
  }

  /** For /health: each store away and since when. */
  list(): StoreAway[] {
    return [...this.away].map(([store, a]) => ({ store, since: a.since.toISOString(), ...(a.full ? { full: true as const } : {}) }));
  }

  isAway(store: StoreName): boolean {
    return this.away.has(store);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      for (const [store, a] of [...this.away]) {
        if (await this.isBack(store, a)) this.back(store, a);
      }
    } finally {
      this.probing = false;
    }
    if (this.away.size === 0) this.close();
  }

  private async isBack(store: StoreName, a: Away): Promise<boolean> {
    if (!this.registry.probeStore) return Date.now() - a.lastFailure > UNPROBED_BACK_AFTER_MS;
    try {
      await this.registry.probeStore(store);
      return true;
    } catch {
      return false;
    }
  }

  private back(store: StoreName, a: Away): void {
    this.away.delete(store);
    this.log.info("storage back", { store, awayMs: Date.now() - a.since.getTime() });
  }
}

/** The answer to a request that needed a store that is away: 507 for a full disk, else 503, naming the store. */
export function storeAwayResponse(failure: StoreFailure): Response {
  const role = STORE_ROLES[failure.store];
  if (failure.full) {
    return Response.json({ error: `storage is full: ${role} has no space left; pods stored before are still served`, store: failure.store }, { status: 507, headers: { "Retry-After": "60" } });
  }
  return Response.json({ error: `storage is unreachable for the moment: ${role}; try again shortly`, store: failure.store }, { status: 503, headers: { "Retry-After": "1" } });
}
