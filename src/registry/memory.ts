import type { PodRecord, Registry } from "./types.ts";

/** Volatile registry for demos and tests: everything is lost on restart. */
export class MemoryRegistry implements Registry {
  readonly name = "memory";
  private readonly records = new Map<string, PodRecord>();
  private readonly blobs = new Map<string, Uint8Array>();

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
    if (record) record.hits += 1;
  }

  async deletePod(id: string): Promise<boolean> {
    this.blobs.delete(id);
    return this.records.delete(id);
  }

  size(): number {
    return this.records.size;
  }
}
