// Bodies for tests that move bytes: random (so a lost, doubled or reordered
// chunk can never look right) and compared by SHA-256 (so a mismatch is one line,
// not a 20 MB diff). Counting bytes or filling with constants hides order bugs.

export interface Digest {
  bytes: number;
  sha256: string;
}

/** `n` random bytes (getRandomValues fills at most 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

export function sha256(bytes: ArrayBuffer | Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

export function digestOf(bytes: ArrayBuffer | Uint8Array): Digest {
  return { bytes: bytes.byteLength, sha256: sha256(bytes) };
}

/** Reads a stream to its end, hashing as it goes (nothing is kept). */
export async function digest(stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Digest> {
  const hash = new Bun.CryptoHasher("sha256");
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { bytes, sha256: hash.digest("hex") };
}

/**
 * A body of `count` fresh random pieces of `size` bytes, produced as it is read
 * (so 400 MB costs no memory); `sent` resolves with the digest of what went out.
 */
export function randomStream(count: number, size: number): { stream: ReadableStream<Uint8Array>; sent: Promise<Digest> } {
  const hash = new Bun.CryptoHasher("sha256");
  let done!: (d: Digest) => void;
  const sent = new Promise<Digest>((resolve) => (done = resolve));
  let left = count;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (left-- <= 0) {
        c.close();
        return done({ bytes: count * size, sha256: hash.digest("hex") });
      }
      const piece = randomBytes(size);
      hash.update(piece);
      c.enqueue(piece);
    },
  });
  return { stream, sent };
}
