import { ManifestError } from "./errors.ts";

// The toolkit inlines `window.__GEMMAPOD_MANIFEST_B64 = "<base64>"`. The name
// appears again later without an assignment, so we look for the first occurrence
// followed by `\s*=\s*"`, working on bytes: no UTF-8 decode of a 1 MB page.
const MARKER = new TextEncoder().encode("__GEMMAPOD_MANIFEST_B64");
const QUOTE = 0x22;
const EQUALS = 0x3d;
/** Generous bound: real manifests are ~1-3 KB of CBOR. */
const MAX_MANIFEST_B64 = 1024 * 1024;

export function extractManifestBytes(blob: Uint8Array): Uint8Array {
  const encoded = findManifestBase64(blob);
  if (encoded === null) throw new ManifestError("blob is missing __GEMMAPOD_MANIFEST_B64");
  return decodeStrictBase64(encoded);
}

function findManifestBase64(blob: Uint8Array): Uint8Array | null {
  const haystack = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  for (let at = haystack.indexOf(MARKER); at !== -1; at = haystack.indexOf(MARKER, at + 1)) {
    let i = skipSpace(blob, at + MARKER.length);
    if (blob[i] !== EQUALS) continue;
    i = skipSpace(blob, i + 1);
    if (blob[i] !== QUOTE) continue;
    const start = i + 1;
    let end = start;
    while (end < blob.length && isBase64Byte(blob[end]!)) end++;
    // The reference pattern requires at least one base64 char and a closing quote.
    if (end === start || blob[end] !== QUOTE) continue;
    if (end - start > MAX_MANIFEST_B64) throw new ManifestError("inlined manifest is too large");
    return blob.subarray(start, end);
  }
  return null;
}

function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x0c)) i++;
  return i;
}

function isBase64Byte(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === EQUALS;
}

/** Standard base64 with canonical padding; Buffer's decoder alone would silently skip junk. */
function decodeStrictBase64(encoded: Uint8Array): Uint8Array {
  const text = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString("latin1");
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    throw new ManifestError("__GEMMAPOD_MANIFEST_B64 is not valid base64");
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}
