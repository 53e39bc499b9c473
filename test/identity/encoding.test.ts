import { describe, expect, test } from "bun:test";
import * as ed from "@noble/ed25519";
import { parsePublicKeyHex, parseSignatureBase64url } from "../../src/identity/encoding.ts";
import { registerChallengeBytes, verifyOwnerToken } from "../../src/identity/owner-token.ts";

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The other 15 spellings Node's decoder maps to the same 64 bytes (the last character's spare bits set). */
function otherSpellings(canonical: string): string[] {
  const last = B64URL.indexOf(canonical.at(-1)!);
  return Array.from({ length: 16 }, (_, spare) => canonical.slice(0, -1) + B64URL[(last & ~15) | spare]).filter((s) => s !== canonical);
}

describe("one spelling per signature", async () => {
  const secret = ed.utils.randomSecretKey();
  const sig = await ed.signAsync(new TextEncoder().encode("hello"), secret);
  const canonical = Buffer.from(sig).toString("base64url");

  test("the canonical form parses to the signature's bytes", () => {
    expect(parseSignatureBase64url(canonical)).toEqual(new Uint8Array(sig));
  });

  test("every other spelling of the same bytes is refused, though a lenient decoder accepts them", () => {
    const others = otherSpellings(canonical);
    expect(others).toHaveLength(15);
    for (const s of others) {
      expect(Buffer.from(s, "base64url")).toEqual(Buffer.from(sig));
      expect(parseSignatureBase64url(s)).toBeNull();
    }
  });

  test("wrong lengths, padding, standard base64 and non-strings are refused", () => {
    for (const bad of [canonical.slice(1), canonical + "A", canonical + "==", canonical.replace(/-/g, "+").replace(/_/g, "/") + "x", 42, null, undefined]) {
      if (bad === canonical) continue;
      expect(parseSignatureBase64url(bad)).toBeNull();
    }
  });

  test("public keys are 64 hex digits", () => {
    expect(parsePublicKeyHex("ab".repeat(32))).toHaveLength(32);
    for (const bad of ["ab".repeat(31), "zz".repeat(32), "ab".repeat(33), 7, null]) expect(parsePublicKeyHex(bad)).toBeNull();
  });

  test("owner tokens accept only the canonical spelling of their signature", async () => {
    const key = await ed.getPublicKeyAsync(secret);
    const sigOnNonce = await ed.signAsync(registerChallengeBytes("pod-1", "nonce-1"), secret);
    const keyHex = Buffer.from(key).toString("hex");
    const good = Buffer.from(sigOnNonce).toString("base64url");
    expect(await verifyOwnerToken(`${keyHex}.${good}`, "pod-1", "nonce-1")).toBe(keyHex);
    expect(await verifyOwnerToken(`${keyHex.toUpperCase()}.${good}`, "pod-1", "nonce-1")).toBe(keyHex);
    for (const s of otherSpellings(good)) expect(await verifyOwnerToken(`${keyHex}.${s}`, "pod-1", "nonce-1")).toBeNull();
    expect(await verifyOwnerToken(`${keyHex}.${good}`, "pod-1", "nonce-2")).toBeNull();
    expect(await verifyOwnerToken(`${keyHex}${good}`, "pod-1", "nonce-1")).toBeNull();
  });
});
