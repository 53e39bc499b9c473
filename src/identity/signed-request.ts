import { verifyEd25519 } from "./ed25519.ts";
import { parsePublicKeyHex, parseSignatureBase64url } from "./encoding.ts";

/** How far a signed request's clock may be from ours. */
export const SIGNED_REQUEST_WINDOW_SECONDS = 300;

/**
 * `Authorization: GemmaPod-Ed25519 <ownerPubkeyHex>.<unixSeconds>.<sig base64url>`,
 * the signature over `<METHOD> <path> <unixSeconds>`. Each signed statement works
 * once: the replay memory keys on the key and the signed text (not on how the
 * signature was spelled) until it leaves the time window; it is bounded.
 */
export class SignedRequestVerifier {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxRemembered = 100_000) {}

  /** The proven owner key (lowercase hex), or a reason it is not proven. */
  async verify(header: string | undefined, method: string, path: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<{ owner: string } | { error: string }> {
    const m = /^GemmaPod-Ed25519 ([0-9a-fA-F]{64})\.(\d{1,12})\.([A-Za-z0-9_-]{86})$/.exec(header ?? "");
    if (!m) return { error: "expected Authorization: GemmaPod-Ed25519 <ownerPubkeyHex>.<unixSeconds>.<signature base64url>" };
    const [, keyHex, secondsText, sigText] = m as unknown as [string, string, string, string];
    const signature = parseSignatureBase64url(sigText);
    if (!signature) return { error: "signature is not canonical base64url" };
    const seconds = Number(secondsText);
    if (Math.abs(nowSeconds - seconds) > SIGNED_REQUEST_WINDOW_SECONDS) return { error: "signature timestamp is outside ±5 minutes of the server's clock" };
    const owner = keyHex.toLowerCase();
    const statement = `${method} ${path} ${seconds}`;
    const replayKey = `${owner} ${statement}`;
    this.forgetExpired(nowSeconds);
    if (this.seen.has(replayKey)) return { error: "this signature was already used" };
    const ok = await verifyEd25519(parsePublicKeyHex(keyHex)!, signature, new TextEncoder().encode(statement));
    if (!ok) return { error: "signature does not verify" };
    // Checked again: another request with the same statement may have verified meanwhile.
    if (this.seen.has(replayKey)) return { error: "this signature was already used" };
    if (this.seen.size >= this.maxRemembered) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(replayKey, seconds + SIGNED_REQUEST_WINDOW_SECONDS);
    return { owner };
  }

  private forgetExpired(nowSeconds: number): void {
    for (const [key, until] of this.seen) {
      if (until >= nowSeconds) break;
      this.seen.delete(key);
    }
  }
}
