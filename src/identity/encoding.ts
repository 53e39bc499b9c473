// Keys and signatures arrive as text. Each has exactly one accepted spelling, so
// anything remembered about a signature (replay memory) cannot be dodged by
// writing the same bytes another way.

/** A 32-byte Ed25519 public key as 64 hex digits (either case), or null. */
export function parsePublicKeyHex(text: unknown): Uint8Array | null {
  if (typeof text !== "string" || !/^[0-9a-fA-F]{64}$/.test(text)) return null;
  return new Uint8Array(Buffer.from(text, "hex"));
}

/**
 * A 64-byte Ed25519 signature as canonical unpadded base64url, or null.
 * 86 characters carry 516 bits for 512: the last character's 4 spare bits must
 * be zero, otherwise 16 spellings would decode to the same signature.
 */
export function parseSignatureBase64url(text: unknown): Uint8Array | null {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]{85}[AQgw]$/.test(text)) return null;
  return new Uint8Array(Buffer.from(text, "base64url"));
}

/** Base64url characters per nonce: 22 × 6 = 132 random bits. */
const NONCE_CHARS = 22;
/** Random bytes drawn at once: 64 nonces' worth (1,408 characters). */
const POOL_BYTES = (NONCE_CHARS * 64 * 3) / 4;
let pool = "";
let taken = 0;

/**
 * A fresh challenge (132 random bits, base64url). Every connection needs one, so they
 * are cut from a pooled random string: one draw and one encoding per 64 sockets instead
 * of two small buffers each, which cost more in garbage collection than in randomness.
 */
export function newNonce(): string {
  if (taken + NONCE_CHARS > pool.length) {
    pool = Buffer.from(crypto.getRandomValues(new Uint8Array(POOL_BYTES))).toString("base64url");
    taken = 0;
  }
  return pool.slice(taken, (taken += NONCE_CHARS));
}
