import type { ManagedRegistry, OwnerUsage, PodPage, PodRecord } from "./types.ts";

/** Volatile registry for demos and tests: everything is lost on restart. */
export class MemoryRegistry implements ManagedRegistry {
  readonly name = "memory";
  private readonly records = new Map<string, PodRecord>();
  private readonly blobs = new Map<string, Uint8Array>();
  private readonly lastFetched = new Map<string, number>();
  private readonly tombstones = new Set<string>();

  async putPod(record: PodRecord, blob: Uint8Array): Promise<void> {
    this.blobs.set(record.id, blob);
    this.records.set(record.id, { ...record });
  }

  async getRecord(id: string): Promise<PodRecord | null> {
    const record = this.records.get(id);
    return record ? { ...record } : null;
  }

  async getBlob(id: string): Promise<Uint8Array | null> {
    return this.blobs.get(id) ?? null;
  }

  async bumpHits(id: string): Promise<void> {
    const record = this.records.get(id);
    if (!record) return;
    record.hits += 1;
    this.lastFetched.set(id, Date.now());
  }

  async countPods(): Promise<number> {
    return this.records.size;
  }

  async deletePod(id: string): Promise<boolean> {
    this.blobs.delete(id);
    this.lastFetched.delete(id);
    const existed = this.records.delete(id);
    if (existed) this.tombstones.add(id);
    return existed;
  }

  async isDeleted(id: string): Promise<boolean> {
    return this.tombstones.has(id);
  }

  async listPods(query: { owner?: string; limit: number; cursor?: string }): Promise<PodPage> {
    const ids = [...this.records.keys()].sort().filter((id) => query.cursor === undefined || id > query.cursor);
    const pods: PodRecord[] = [];
    for (const id of ids) {
      const record = this.records.get(id)!;
      if (query.owner !== undefined && record.ownerPubkey !== query.owner) continue;
      if (pods.length === query.limit) return { pods, nextCursor: pods.at(-1)!.id };
      pods.push({ ...record });
    }
    return { pods };
  }

  async ownerUsage(ownerPubkey: string): Promise<OwnerUsage> {
    let pods = 0;
    let bytes = 0;
    for (const r of this.records.values()) {
      if (r.ownerPubkey !== ownerPubkey) continue;
      pods++;
      bytes += r.blobSize;
    }
    return { pods, bytes };
  }

  async idlePods(cutoff: Date): Promise<string[]> {
    const limit = cutoff.getTime();
    return [...this.records.values()]
      .filter((r) => (this.lastFetched.get(r.id) ?? Date.parse(r.createdAt)) < limit)
      .map((r) => r.id);
  }

  size(): number {
    return this.records.size;
  }
}
