import { verifyEd25519 } from "./ed25519.ts";
import { parsePublicKeyHex, parseSignatureBase64url } from "./encoding.ts";

/** The bytes an origin signs to prove it holds a pod's owner key on this /signal socket. */
export function registerChallengeBytes(podId: string, nonce: string): Uint8Array {
  return new TextEncoder().encode(`gemmapod-register:${podId}:${nonce}`);
}

/**
 * Checks `<ownerPubkeyHex>.<signature base64url>` against this socket's nonce.
 * Returns the proven owner key (lowercase hex), or null.
 */
export async function verifyOwnerToken(token: string, podId: string, nonce: string): Promise<string | null> {
  const dot = token.indexOf(".");
  const key = parsePublicKeyHex(token.slice(0, dot));
  const signature = parseSignatureBase64url(token.slice(dot + 1));
  if (dot < 0 || !key || !signature) return null;
  return (await verifyEd25519(key, signature, registerChallengeBytes(podId, nonce))) ? token.slice(0, dot).toLowerCase() : null;
}
