import type { BlobStore } from "./blob-store.ts";

/** A pod whose record exists but whose stored page is missing or not what was stored. */
export class PodDataError extends Error {
  constructor(
    readonly id: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`pod ${id}: ${reason} (${path})`);
  }
}

/** Ids remembered (so each is logged once); past this they are still counted. */
const MAX_REMEMBERED = 100_000;

/**
 * The pods found damaged so far: each is logged once, with its id and path, and
 * counted for `/health` until it is deleted.
 */
export class DamagedPods {
  private readonly ids = new Set<string>();
  private unremembered = 0;

  report(error: PodDataError): void {
    if (this.ids.has(error.id)) return;
    if (this.ids.size >= MAX_REMEMBERED) this.unremembered++;
    else this.ids.add(error.id);
    console.error(`[gemmapod-signal] pod data is missing or damaged: ${error.message}`);
  }

  /** Found at start-up: counted, and summed up in one line by the caller instead of one line each. */
  addQuietly(id: string): void {
    if (this.ids.size < MAX_REMEMBERED) this.ids.add(id);
    else this.unremembered++;
  }

  forget(id: string): void {
    this.ids.delete(id);
  }

  count(): number {
    return this.ids.size + this.unremembered;
  }
}

/** The page as stored, checked against its record's size and (when recorded) SHA-256; throws `PodDataError` (logged once) when it is not. */
export async function readCheckedPage(blobs: BlobStore, id: string, expected: { size: number; sha256: string | null }, damaged: DamagedPods): Promise<Uint8Array> {
  const page = await blobs.get(id);
  const fail = (reason: string) => {
    const error = new PodDataError(id, blobs.where(id), reason);
    damaged.report(error);
    return error;
  };
  if (!page) throw fail("page is missing");
  if (page.byteLength !== expected.size) throw fail(`page has ${page.byteLength} bytes, record says ${expected.size}`);
  if (expected.sha256 !== null && pageSha256(page) !== expected.sha256) throw fail("page's SHA-256 differs from the record's");
  return page;
}

export function pageSha256(page: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(page).digest("base64url");
}
