import type { StoreName } from "./outage.ts";

/** What the registry keeps about a published pod (the reference broker's shape). */
export interface PodRecord {
  id: string;
  name: string;
  ownerPubkey: string;
  manifestSize: number;
  blobSize: number;
  /** ISO-8601 timestamp. */
  createdAt: string;
  hits: number;
}

/**
 * Storage behind `POST /pods` and `GET /:id`. Backends only ever see pods whose
 * signature was verified. Same shape as `@gemmapod/signal`, so custom backends plug in.
 */
export interface Registry {
  readonly name?: string;
  /** Store a verified pod; record and blob become visible together. */
  putPod(record: PodRecord, blob: Uint8Array): Promise<void>;
  getRecord(id: string): Promise<PodRecord | null>;
  /** May throw `PodDataError` when the record exists but its page is missing or damaged. */
  getBlob(id: string): Promise<Uint8Array | null>;
  /** Best effort; failures must not break serving. */
  bumpHits(id: string): Promise<void>;
  /** How many pods are stored (the console shows it); optional for custom backends. */
  countPods?(): Promise<number>;
  close?(): Promise<void>;
  /** Pods found with missing or damaged data so far (for `/health`). */
  damagedPods?(): number;
  /** Rejects while `store` cannot be used; tried every second while it is away (see StoreOutages). */
  probeStore?(store: StoreName): Promise<void>;
}

/** Pods of one owner, for quotas. */
export interface OwnerUsage {
  pods: number;
  bytes: number;
}

export interface PodPage {
  pods: PodRecord[];
  /** Pass back as `cursor` for the next page; absent on the last. */
  nextCursor?: string;
}

/**
 * Optional abilities beyond the reference's interface. Both shipped registries
 * have them; routes that need one answer 501 when a custom registry lacks it.
 */
export interface ManagedRegistry extends Registry {
  /** Removes a pod and leaves a tombstone so its id answers 410 from then on. */
  deletePod(id: string): Promise<boolean>;
  isDeleted(id: string): Promise<boolean>;
  listPods(query: { owner?: string; limit: number; cursor?: string }): Promise<PodPage>;
  ownerUsage(ownerPubkey: string): Promise<OwnerUsage>;
  /** Ids of pods not fetched (or, if never fetched, not created) since `cutoff`. */
  idlePods(cutoff: Date): Promise<string[]>;
}

export function isManaged(registry: Registry): registry is ManagedRegistry {
  const r = registry as Partial<ManagedRegistry>;
  return typeof r.deletePod === "function" && typeof r.isDeleted === "function" && typeof r.listPods === "function" && typeof r.ownerUsage === "function" && typeof r.idlePods === "function";
}
