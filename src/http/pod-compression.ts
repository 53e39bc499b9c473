import { errorFields, type Logger } from "../log/logger.ts";
import { promisify } from "node:util";
import zlib from "node:zlib";

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** How to compress a page, and the tag its ETag gets (each distinct output needs its own strong ETag). */
export interface Level {
  encoding: "br" | "gzip";
  quality: number;
}

export interface Compressed {
  bytes: Uint8Array;
  /** e.g. `br5`, `gzip6`: appended to the page's hash to make the variant's ETag. */
  tag: string;
}

/**
 * Measured on a 1.16 MB pod: brotli 5 takes ~10 ms for 6.96x, within 2% of
 * brotli 11's 7.6x at 1/60 of its time; gzip 6 ~16 ms for 2.4x, while gzip 9
 * is slower and larger.
 */
export const FAST = { br: { encoding: "br", quality: 5 }, gzip: { encoding: "gzip", quality: 6 } } as const satisfies Record<string, Level>;

/**
 * Brotli 11 runs at about 1 MB/s: right for typical ~1 MB pods, but a 50 MB page
 * would hold the queue for most of a minute; quality 9 is ~10x faster for a few
 * percent more bytes.
 */
export function settledBrotli(bytes: number): Level {
  return { encoding: "br", quality: bytes <= 8 * 1024 * 1024 ? 11 : 9 };
}

/** Compresses on the libuv pool; a failure only costs bandwidth, so it is logged and yields nothing. */
export async function compressPage(id: string, page: Uint8Array, level: Level, log: Logger): Promise<Compressed | undefined> {
  try {
    const out =
      level.encoding === "gzip"
        ? await gzip(page, { level: level.quality })
        : await brotli(page, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: level.quality, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: page.byteLength } });
    return { bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), tag: `${level.encoding}${level.quality}` };
  } catch (error) {
    log.error("compressing a pod failed", { podId: id, encoding: level.encoding, quality: level.quality, ...errorFields(error) });
    return undefined;
  }
}
