import { verifyEd25519 } from "../manifest/ed25519.ts";

/** How far a signed request's clock may be from ours. */
export const SIGNED_REQUEST_WINDOW_SECONDS = 300;

/**
 * `Authorization: GemmaPod-Ed25519 <ownerPubkeyHex>.<unixSeconds>.<sig base64url>`,
 * the signature over `<METHOD> <path> <unixSeconds>`. Each signature works once:
 * seen ones are remembered until they leave the time window (bounded).
 */
export class SignedRequestVerifier {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxRemembered = 100_000) {}

  /** The proven owner key (lowercase hex), or a reason it is not proven. */
  async verify(header: string | undefined, method: string, path: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<{ owner: string } | { error: string }> {
    const m = /^GemmaPod-Ed25519 ([0-9a-fA-F]{64})\.(\d{1,12})\.([A-Za-z0-9_-]{86})$/.exec(header ?? "");
    if (!m) return { error: "expected Authorization: GemmaPod-Ed25519 <ownerPubkeyHex>.<unixSeconds>.<signature base64url>" };
    const [, keyHex, secondsText, sigText] = m as unknown as [string, string, string, string];
    const seconds = Number(secondsText);
    if (Math.abs(nowSeconds - seconds) > SIGNED_REQUEST_WINDOW_SECONDS) return { error: "signature timestamp is outside ±5 minutes of the server's clock" };
    this.forgetExpired(nowSeconds);
    if (this.seen.has(sigText)) return { error: "this signature was already used" };
    const message = new TextEncoder().encode(`${method} ${path} ${seconds}`);
    const ok = await verifyEd25519(new Uint8Array(Buffer.from(keyHex, "hex")), new Uint8Array(Buffer.from(sigText, "base64url")), message);
    if (!ok) return { error: "signature does not verify" };
    if (this.seen.size >= this.maxRemembered) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(sigText, seconds + SIGNED_REQUEST_WINDOW_SECONDS);
    return { owner: keyHex.toLowerCase() };
  }

  private forgetExpired(nowSeconds: number): void {
    for (const [sig, until] of this.seen) {
      if (until >= nowSeconds) break;
      this.seen.delete(sig);
    }
  }
}
