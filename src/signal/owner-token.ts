import { verifyEd25519 } from "../manifest/ed25519.ts";

/** The bytes an origin signs to prove it holds a pod's owner key on this socket. */
export function registerChallengeBytes(podId: string, nonce: string): Uint8Array {
  return new TextEncoder().encode(`gemmapod-register:${podId}:${nonce}`);
}

/** Base64url characters per nonce: 22 × 6 = 132 random bits. */
const NONCE_CHARS = 22;
/** Random bytes drawn at once: 64 nonces' worth (1,408 characters). */
const POOL_BYTES = (NONCE_CHARS * 64 * 3) / 4;
let pool = "";
let taken = 0;

/**
 * A fresh per-socket nonce (132 random bits, base64url). Every connection needs one, so
 * they are cut from a pooled random string: one draw and one encoding per 64 sockets
 * instead of two small buffers each, which cost more in garbage collection than in randomness.
 */
export function newNonce(): string {
  if (taken + NONCE_CHARS > pool.length) {
    pool = Buffer.from(crypto.getRandomValues(new Uint8Array(POOL_BYTES))).toString("base64url");
    taken = 0;
  }
  return pool.slice(taken, (taken += NONCE_CHARS));
}

/**
 * Checks `<ownerPubkeyHex>.<signature base64url>` against this socket's nonce.
 * Returns the proven owner key (lowercase hex), or null.
 */
export async function verifyOwnerToken(token: string, podId: string, nonce: string): Promise<string | null> {
  const m = /^([0-9a-fA-F]{64})\.([A-Za-z0-9_-]{86})$/.exec(token);
  if (!m) return null;
  const key = new Uint8Array(Buffer.from(m[1]!, "hex"));
  const signature = new Uint8Array(Buffer.from(m[2]!, "base64url"));
  return (await verifyEd25519(key, signature, registerChallengeBytes(podId, nonce))) ? m[1]!.toLowerCase() : null;
}
