import { describe, expect, test } from "bun:test";
import * as ed from "@noble/ed25519";
import { CborError, decodeCbor } from "../../src/manifest/cbor.ts";
import { ManifestError } from "../../src/manifest/errors.ts";
import { extractManifestBytes } from "../../src/manifest/extract.ts";
import { verifyPodBlob, verifySignedManifest } from "../../src/manifest/verify.ts";
import { buildPod } from "../helpers/pods.ts";

// Minimal CBOR writer for building envelopes the way a future encoder might.
function head(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n];
  if (n < 256) return [(major << 5) | 24, n];
  if (n < 65536) return [(major << 5) | 25, n >> 8, n & 255];
  return [(major << 5) | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
}
const text = (s: string) => [...head(3, Buffer.byteLength(s)), ...Buffer.from(s)];
const bytes = (b: Uint8Array) => [...head(2, b.length), ...b];

describe("CBOR decoder", () => {
  test("decodes the types manifests use", () => {
    expect(decodeCbor(new Uint8Array([0xa2, ...text("a"), 0x01, ...text("b"), 0x83, 0x18, 0xff, 0xf6, 0xf5]))).toEqual({ a: 1, b: [255, null, true] } as any);
    expect(decodeCbor(new Uint8Array([0x39, 0x01, 0x00]))).toBe(-257);
    expect(decodeCbor(new Uint8Array([0xf9, 0x3c, 0x00]))).toBe(1);
  });

  const bad: [string, number[]][] = [
    ["empty input", []],
    ["truncated text", [0x65, 0x61]],
    ["a huge declared array", [0x9a, 0xff, 0xff, 0xff, 0xff]],
    ["a huge declared map", [0xbb, 0, 0, 0, 1, 0, 0, 0, 0]],
    ["indefinite length", [0x9f, 0x01, 0xff]],
    ["reserved info", [0x1c]],
    ["a non-text map key", [0xa1, 0x01, 0x02]],
    ["a duplicate key", [0xa2, ...text("k"), 1, ...text("k"), 2]],
    ["trailing bytes", [0x01, 0x02]],
    ["invalid UTF-8", [0x62, 0xff, 0xfe]],
    ["deep nesting", Array(40).fill(0x81).concat([0x01])],
  ];
  test.each(bad)("rejects %s", (_name, input) => {
    expect(() => decodeCbor(new Uint8Array(input))).toThrow(CborError);
  });

  test("a __proto__ key stays inert", () => {
    const m = decodeCbor(new Uint8Array([0xa1, ...text("__proto__"), 0x01])) as any;
    expect(m.__proto__).toBe(1);
    expect(({} as any).polluted).toBeUndefined();
  });
});

describe("signed manifests", () => {
  const pod = buildPod({ podId: "manifest-pod" });

  test("a real toolkit pod verifies and yields its fields", async () => {
    const { manifest, manifestSize, ownerKey } = await verifyPodBlob(pod.bytes);
    expect(manifest).toMatchObject({ v: 1, id: "manifest-pod", name: "manifest-pod", owner_pubkey: pod.key.publicKey, model: "gemma4:e4b" });
    expect(manifest.transport.dartc).toEqual({ signal_url: "wss://signal.example.test/signal", pod_id: "manifest-pod" });
    expect(manifest.tools).toEqual([{ name: "share_contact", description: "Share the owner's contact card." }]);
    expect(Buffer.from(ownerKey).toString("hex")).toBe(pod.key.publicKey);
    expect(manifestSize).toBe(extractManifestBytes(pod.bytes).length);
  });

  test("the marker without an assignment is skipped; the first assignment wins", () => {
    const page = new TextEncoder().encode(`x = window.__GEMMAPOD_MANIFEST_B64; __GEMMAPOD_MANIFEST_B64 \n=\t"AQID"; __GEMMAPOD_MANIFEST_B64 = "BAUG"`);
    expect([...extractManifestBytes(page)]).toEqual([1, 2, 3]);
  });

  async function envelopeWithByteStrings(mutate?: (payload: Uint8Array) => Uint8Array) {
    const envelope = decodeCbor(extractManifestBytes(pod.bytes)) as { payload: number[] };
    const payload = new Uint8Array(envelope.payload);
    const seed = Buffer.from(pod.key.secretKey, "hex");
    const sig = await ed.signAsync(payload, seed);
    const signed = mutate ? mutate(payload) : payload;
    return new Uint8Array([0xa2, ...text("sig"), ...bytes(sig), ...text("payload"), ...bytes(signed)]);
  }

  test("byte-string sig and payload (a future encoder) verify too", async () => {
    const { manifest } = await verifySignedManifest(await envelopeWithByteStrings());
    expect(manifest.owner_pubkey).toBe(pod.key.publicKey);
  });

  test("a payload changed after signing fails verification", async () => {
    const envelope = await envelopeWithByteStrings((p) => {
      const copy = p.slice();
      const at = Buffer.from(copy).indexOf("Test pod");
      copy[at] = 0x58; // "Xest pod"
      return copy;
    });
    await expect(verifySignedManifest(envelope)).rejects.toThrow("manifest signature verification failed");
  });

  test("wrong signature and key lengths are named", async () => {
    const short = new Uint8Array([0xa2, ...text("sig"), ...bytes(new Uint8Array(10)), ...text("payload"), ...bytes(new Uint8Array([0xa0]))]);
    await expect(verifySignedManifest(short)).rejects.toThrow("signature must be 64 bytes, got 10");
    const payload = new Uint8Array([0xa8, ...text("v"), 1, ...text("id"), ...text("x"), ...text("name"), ...text("x"), ...text("persona"), ...text("x"), ...text("system_prompt"), ...text("x"), ...text("owner_pubkey"), ...text("abcd"), ...text("transport"), 0xa0, ...text("tools"), 0x80]);
    const envelope = new Uint8Array([0xa2, ...text("sig"), ...bytes(new Uint8Array(64)), ...text("payload"), ...bytes(payload)]);
    await expect(verifySignedManifest(envelope)).rejects.toThrow(/owner_pubkey must be 32 bytes of hex/);
  });

  test("missing or mistyped fields are ManifestErrors", async () => {
    const noSig = new Uint8Array([0xa1, ...text("payload"), ...bytes(new Uint8Array([0xa0]))]);
    await expect(verifySignedManifest(noSig)).rejects.toThrow(ManifestError);
    const arrayEnvelope = new Uint8Array([0x80]);
    await expect(verifySignedManifest(arrayEnvelope)).rejects.toThrow("signed manifest must be a map");
    const badByte = new Uint8Array([0xa2, ...text("sig"), 0x81, 0x19, 0x01, 0x00, ...text("payload"), 0x80]);
    await expect(verifySignedManifest(badByte)).rejects.toThrow("sig[0] is not a byte");
  });
});
