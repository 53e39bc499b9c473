import { Logger } from "../log/logger.ts";
import { compressPage, FAST, settledBrotli, type Compressed } from "./pod-compression.ts";

/** One representation of a page: its bytes and their strong ETag. */
export interface Variant {
  bytes: Uint8Array;
  etag: string;
}

/** A pod page ready to serve, and its compressed variants once made. */
export interface ServedPod {
  identity: Variant;
  br?: Variant;
  gzip?: Variant;
  /** Settle once the fast brotli, or gzip, exists (or will not): wait for the one a client would get. */
  ready: Record<Encoding, Promise<void>>;
  /** The owner key from its record: a cached page is served with it while the records' store is away. */
  owner?: string;
}

type Encoding = "br" | "gzip";

interface Entry extends ServedPod {
  markReady: Record<Encoding, () => void>;
}

/**
 * Hot pod pages in memory, bounded by total bytes and evicted least recently
 * used first. Each page is hashed once, then compressed in two lanes on the
 * libuv pool, off the event loop:
 *
 * - fast: brotli 5 and gzip 6 (tens of ms for a 1 MB pod, brotli within a few
 *   percent of its best), so even the first visitor after an upload gets a
 *   compressed page — requests wait for it on `ready`;
 * - settled: brotli 11 (about a second per MB) then replaces the fast brotli.
 *
 * Each lane works on one page at a time, one job at a time, in upload order, and
 * only on pages still cached: a flood of uploads queues no more work than the
 * cache holds, keeps at most two pool threads busy, and an evicted page is never
 * compressed.
 */
export class PodCache {
  private readonly entries = new Map<string, Entry>();
  /** Ids of cached pages waiting for (or in) each lane, oldest first (subsets of `entries`). */
  private readonly fastWaiting = new Set<string>();
  private readonly settleWaiting = new Set<string>();
  private fastBusy = false;
  private settleBusy = false;
  private bytes = 0;
  /** Lookups that found the page, and that did not (for metrics). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly log = Logger.errorsOnly(),
  ) {}

  get(id: string): ServedPod | undefined {
    const entry = this.entries.get(id);
    if (entry) {
      this.hits++;
      this.entries.delete(id);
      this.entries.set(id, entry);
    } else this.misses++;
    return entry;
  }

  /**
   * Adds a page (right after upload, or when a request finds it missing) and
   * queues it for compression. A page bigger than the whole cache is served
   * uncached and uncompressed: compressing it anew for every request would cost
   * more CPU than the bandwidth it saves is worth.
   */
  put(id: string, blob: Uint8Array, owner?: string): ServedPod {
    const existing = this.entries.get(id);
    if (existing) return existing;
    const br = Promise.withResolvers<void>();
    const gzip = Promise.withResolvers<void>();
    const entry: Entry = {
      identity: { bytes: blob, etag: strongEtag(blob) },
      ready: { br: br.promise, gzip: gzip.promise },
      markReady: { br: br.resolve, gzip: gzip.resolve },
      owner,
    };
    if (blob.byteLength > this.maxBytes) {
      markAllReady(entry);
      return entry;
    }
    this.entries.set(id, entry);
    this.grow(blob.byteLength);
    this.fastWaiting.add(id);
    void this.drainFast();
    return entry;
  }

  delete(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.fastWaiting.delete(id);
    this.settleWaiting.delete(id);
    this.bytes -= sizeOf(entry);
    markAllReady(entry);
  }

  /** Drops every page and the pending work (jobs under way finish unused). */
  clear(): void {
    for (const id of [...this.entries.keys()]) this.delete(id);
  }

  size(): { entries: number; bytes: number; waiting: number } {
    return { entries: this.entries.size, bytes: this.bytes, waiting: this.fastWaiting.size + this.settleWaiting.size };
  }

  private async drainFast(): Promise<void> {
    if (this.fastBusy) return;
    this.fastBusy = true;
    try {
      // An id leaves its lane's set once its job is done, so `waiting` counts the job under way.
      for (const id of this.fastWaiting) {
        const entry = this.entries.get(id)!;
        // Brotli first (most clients take it, and it is the faster), each served as soon as it is done.
        for (const encoding of ["br", "gzip"] as const) {
          this.setVariant(id, entry, encoding, await compressPage(id, entry.identity.bytes, FAST[encoding], this.log));
          entry.markReady[encoding]();
        }
        // Evicted meanwhile (and maybe put again: that newer entry keeps its place in the lane).
        if (this.entries.get(id) !== entry) continue;
        this.fastWaiting.delete(id);
        this.settleWaiting.add(id);
        void this.drainSettle();
      }
    } finally {
      this.fastBusy = false;
    }
  }

  private async drainSettle(): Promise<void> {
    if (this.settleBusy) return;
    this.settleBusy = true;
    try {
      for (const id of this.settleWaiting) {
        const entry = this.entries.get(id)!;
        const br = await compressPage(id, entry.identity.bytes, settledBrotli(entry.identity.bytes.byteLength), this.log);
        if (this.entries.get(id) !== entry) continue;
        this.settleWaiting.delete(id);
        // Keep the fast form if the slow one is no smaller (tiny or incompressible pages).
        if (br && br.bytes.byteLength < (entry.br?.bytes.byteLength ?? Infinity)) this.setVariant(id, entry, "br", br);
      }
    } finally {
      this.settleBusy = false;
    }
  }

  private setVariant(id: string, entry: Entry, encoding: "br" | "gzip", made: Compressed | undefined): void {
    if (!made || this.entries.get(id) !== entry) return;
    this.bytes -= entry[encoding]?.bytes.byteLength ?? 0;
    entry[encoding] = { bytes: made.bytes, etag: `"${entry.identity.etag.slice(1, -1)}.${made.tag}"` };
    this.grow(made.bytes.byteLength);
  }

  private grow(n: number): void {
    this.bytes += n;
    for (const id of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(id);
    }
  }
}

function markAllReady(entry: Entry): void {
  entry.markReady.br();
  entry.markReady.gzip();
}

function sizeOf(entry: ServedPod): number {
  return entry.identity.bytes.byteLength + (entry.gzip?.bytes.byteLength ?? 0) + (entry.br?.bytes.byteLength ?? 0);
}

function strongEtag(blob: Uint8Array): string {
  return `"${new Bun.CryptoHasher("sha256").update(blob).digest("base64url")}"`;
}

/** `If-None-Match` matches our strong ETag (weak comparison, as RFC 9110 asks for GET). */
export function etagMatches(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
