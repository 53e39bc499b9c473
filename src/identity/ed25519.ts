import * as noble from "@noble/ed25519";

// WebCrypto Ed25519 is native in Bun and much faster than pure JS; noble is the
// fallback for runtimes (or embedders) whose WebCrypto lacks it.
let webCryptoEd25519: boolean | undefined;

export async function verifyEd25519(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  if (webCryptoEd25519 !== false) {
    try {
      const key = await crypto.subtle.importKey("raw", publicKey as Uint8Array<ArrayBuffer>, { name: "Ed25519" }, false, ["verify"]);
      const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, signature as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>);
      webCryptoEd25519 = true;
      return ok;
    } catch (error) {
      // A malformed point is a bad key, not a missing algorithm.
      if (webCryptoEd25519 === true) return false;
      if (!(error instanceof Error) || error.name !== "NotSupportedError") return false;
      webCryptoEd25519 = false;
    }
  }
  try {
    // zip215:false matches WebCrypto's strict RFC 8032 rules, so both paths agree.
    return await noble.verifyAsync(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
