// A small, strict CBOR (RFC 8949) decoder for signed pod manifests.
// Input comes from strangers, so every length is checked against the bytes that
// remain, nesting is bounded, and indefinite-length items are refused (GemmaPod's
// encoder never writes them).

export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | CborMap;

/** Text-keyed map. A null prototype keeps keys like `__proto__` inert. */
export interface CborMap {
  [key: string]: CborValue;
}

export class CborError extends Error {}

const MAX_DEPTH = 32;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Decodes exactly one item that spans the whole input. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const reader = new Reader(bytes);
  const value = reader.item(0);
  if (reader.pos !== bytes.length) throw new CborError(`trailing bytes after CBOR item at offset ${reader.pos}`);
  return value;
}

class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  item(depth: number): CborValue {
    if (depth > MAX_DEPTH) throw new CborError("CBOR nesting too deep");
    const initial = this.byte();
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) return this.simple(info);
    const arg = this.argument(info);
    switch (major) {
      case 0:
        return arg;
      case 1:
        return typeof arg === "bigint" ? -1n - arg : -1 - arg;
      case 2:
        return this.take(this.length(arg)).slice();
      case 3:
        try {
          return decoder.decode(this.take(this.length(arg)));
        } catch {
          throw new CborError("CBOR text string is not valid UTF-8");
        }
      case 4: {
        // Each element needs at least one byte: a cheap bound before allocating.
        const count = this.count(arg);
        const out: CborValue[] = [];
        for (let i = 0; i < count; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5: {
        const count = this.count(arg, 2);
        const out: CborMap = Object.create(null);
        for (let i = 0; i < count; i++) {
          const key = this.item(depth + 1);
          if (typeof key !== "string") throw new CborError("CBOR map keys must be text strings");
          if (key in out) throw new CborError(`duplicate CBOR map key "${key}"`);
          out[key] = this.item(depth + 1);
        }
        return out;
      }
      default:
        // Major 6: a tag. Manifests carry none; accept and return the tagged item.
        return this.item(depth + 1);
    }
  }

  private simple(info: number): CborValue {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 25:
        return this.half(this.need(2) && this.view.getUint16(this.advance(2)));
      case 26:
        this.need(4);
        return this.view.getFloat32(this.advance(4));
      case 27:
        this.need(8);
        return this.view.getFloat64(this.advance(8));
      default:
        throw new CborError(`unsupported CBOR simple value ${info}`);
    }
  }

  private half(bits: number): number {
    const exp = (bits >> 10) & 0x1f;
    const mant = bits & 0x3ff;
    const sign = bits & 0x8000 ? -1 : 1;
    if (exp === 0) return sign * mant * 2 ** -24;
    if (exp === 31) return mant ? NaN : sign * Infinity;
    return sign * (mant + 1024) * 2 ** (exp - 25);
  }

  private argument(info: number): number | bigint {
    if (info < 24) return info;
    switch (info) {
      case 24:
        return this.byte();
      case 25:
        this.need(2);
        return this.view.getUint16(this.advance(2));
      case 26:
        this.need(4);
        return this.view.getUint32(this.advance(4));
      case 27: {
        this.need(8);
        const big = this.view.getBigUint64(this.advance(8));
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      case 31:
        throw new CborError("indefinite-length CBOR items are not supported");
      default:
        throw new CborError(`reserved CBOR additional info ${info}`);
    }
  }

  private length(arg: number | bigint): number {
    if (typeof arg === "bigint" || arg > this.bytes.length - this.pos) throw new CborError("CBOR item is truncated");
    return arg;
  }

  private count(arg: number | bigint, bytesPerEntry = 1): number {
    if (typeof arg === "bigint" || arg * bytesPerEntry > this.bytes.length - this.pos) {
      throw new CborError("CBOR item is truncated");
    }
    return arg;
  }

  private byte(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  private take(n: number): Uint8Array {
    return this.bytes.subarray(this.pos, (this.pos += n));
  }

  private need(n: number): true {
    if (this.pos + n > this.bytes.length) throw new CborError("CBOR item is truncated");
    return true;
  }

  private advance(n: number): number {
    const at = this.pos;
    this.pos += n;
    return at;
  }
}
