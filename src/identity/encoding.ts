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

/** Fresh randomness for challenges: 128 bits as base64url (22 characters). */
export function newNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
}
