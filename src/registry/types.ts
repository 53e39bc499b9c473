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
  getBlob(id: string): Promise<Uint8Array | null>;
  /** Best effort; failures must not break serving. */
  bumpHits(id: string): Promise<void>;
  close?(): Promise<void>;
}
