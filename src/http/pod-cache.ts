import { promisify } from "node:util";
import zlib from "node:zlib";
import { errorFields, Logger } from "../log/logger.ts";

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** A pod page ready to serve: its strong ETag and, once ready, compressed variants. */
export interface ServedPod {
  identity: Uint8Array;
  etag: string;
  br?: Uint8Array;
  gzip?: Uint8Array;
}

/**
 * Hot pod pages in memory, bounded by total bytes and evicted least recently
 * used first. Each page is hashed once and compressed once (brotli at maximum
 * quality, gzip -9) on the libuv pool, off the event loop; until a variant is
 * ready the page goes out in the best form already at hand.
 *
 * Pages are compressed one at a time, in upload order, and only while cached:
 * a flood of uploads queues no more work than the cache holds, keeps at most one
 * pool thread busy, and a page evicted before its turn is never compressed.
 */
export class PodCache {
  private readonly entries = new Map<string, ServedPod>();
  /** Ids of cached pages not compressed yet, oldest first (a subset of `entries`). */
  private readonly waiting = new Set<string>();
  private compressing = false;
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

  /** Adds a page (e.g. right after upload) and queues it for compression. */
  put(id: string, blob: Uint8Array): ServedPod {
    const existing = this.entries.get(id);
    if (existing) return existing;
    const entry: ServedPod = { identity: blob, etag: strongEtag(blob) };
    // Pages bigger than the whole cache are served uncached but still hashed.
    if (blob.byteLength > this.maxBytes) return entry;
    this.entries.set(id, entry);
    this.grow(blob.byteLength);
    this.waiting.add(id);
    void this.drain();
    return entry;
  }

  delete(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.waiting.delete(id);
    this.bytes -= sizeOf(entry);
  }

  /** Drops every page and the pending work (the job under way finishes unused). */
  clear(): void {
    this.entries.clear();
    this.waiting.clear();
    this.bytes = 0;
  }

  size(): { entries: number; bytes: number; waiting: number } {
    return { entries: this.entries.size, bytes: this.bytes, waiting: this.waiting.size };
  }

  private async drain(): Promise<void> {
    if (this.compressing) return;
    this.compressing = true;
    try {
      for (const id of this.waiting) {
        this.waiting.delete(id);
        const entry = this.entries.get(id);
        if (entry) await this.compress(id, entry);
      }
    } finally {
      this.compressing = false;
    }
  }

  private async compress(id: string, entry: ServedPod): Promise<void> {
    try {
      const gz = new Uint8Array(await gzip(entry.identity, { level: 9 }));
      if (this.entries.get(id) !== entry) return;
      entry.gzip = gz;
      this.grow(gz.byteLength);
      const br = new Uint8Array(
        await brotli(entry.identity, {
          params: { [zlib.constants.BROTLI_PARAM_QUALITY]: brotliQuality(entry.identity.byteLength), [zlib.constants.BROTLI_PARAM_SIZE_HINT]: entry.identity.byteLength },
        }),
      );
      if (this.entries.get(id) !== entry) return;
      entry.br = br;
      this.grow(br.byteLength);
    } catch (error) {
      // Serving identity is always correct; a failed compression only costs bandwidth.
      this.log.error("compressing a pod failed", { podId: id, ...errorFields(error) });
    }
  }

  private grow(n: number): void {
    this.bytes += n;
    for (const id of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(id);
    }
  }
}

/**
 * Brotli 11 runs at about 1 MB/s: right for typical ~1 MB pods, but a 50 MB page
 * would hold the queue for most of a minute; quality 9 is ~10x faster for a few
 * percent more bytes.
 */
function brotliQuality(bytes: number): number {
  return bytes <= 8 * 1024 * 1024 ? 11 : 9;
}

function sizeOf(entry: ServedPod): number {
  return entry.identity.byteLength + (entry.gzip?.byteLength ?? 0) + (entry.br?.byteLength ?? 0);
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
