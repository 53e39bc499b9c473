import { verifyEd25519 } from "../manifest/ed25519.ts";

/** The bytes an origin signs to prove it holds a pod's owner key on this socket. */
export function registerChallengeBytes(podId: string, nonce: string): Uint8Array {
  return new TextEncoder().encode(`gemmapod-register:${podId}:${nonce}`);
}

/** A fresh per-socket nonce (128 bits, base64url). */
export function newNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
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
