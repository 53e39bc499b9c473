import { CborError, decodeCbor, type CborMap, type CborValue } from "./cbor.ts";
import { verifyEd25519 } from "../identity/ed25519.ts";
import { ManifestError } from "./errors.ts";
import { extractManifestBytes } from "./extract.ts";
import type { PodManifest, PodTool, PodTransport, VerifiedManifest } from "./types.ts";

/** Finds, decodes and verifies the signed manifest inlined in a pod page. */
export async function verifyPodBlob(blob: Uint8Array): Promise<VerifiedManifest> {
  return verifySignedManifest(extractManifestBytes(blob));
}

/**
 * Verifies a signed manifest envelope `{sig, payload}`: the Ed25519 signature by
 * `owner_pubkey` over the exact payload bytes, before anything else trusts them.
 */
export async function verifySignedManifest(envelopeBytes: Uint8Array): Promise<VerifiedManifest> {
  const envelope = asMap(decode(envelopeBytes, "signed manifest"), "signed manifest");
  const sig = asBytes(envelope.sig, "sig");
  const payloadBytes = asBytes(envelope.payload, "payload");
  if (sig.length !== 64) throw new ManifestError(`signature must be 64 bytes, got ${sig.length}`);

  const manifest = parsePayload(asMap(decode(payloadBytes, "manifest payload"), "manifest payload"));
  const ownerKey = hexToBytes(manifest.owner_pubkey);
  if (!(await verifyEd25519(ownerKey, sig, payloadBytes))) {
    throw new ManifestError("manifest signature verification failed");
  }
  return { manifest, ownerKey, manifestSize: envelopeBytes.length };
}

function decode(bytes: Uint8Array, what: string): CborValue {
  try {
    return decodeCbor(bytes);
  } catch (error) {
    if (error instanceof CborError) throw new ManifestError(`${what} is not valid CBOR: ${error.message}`);
    throw error;
  }
}

function parsePayload(p: CborMap): PodManifest {
  const manifest: PodManifest = {
    v: asNumber(p.v, "v"),
    id: asString(p.id, "id"),
    name: asString(p.name, "name"),
    persona: asString(p.persona, "persona"),
    system_prompt: asString(p.system_prompt, "system_prompt"),
    owner_pubkey: asString(p.owner_pubkey, "owner_pubkey"),
    transport: parseTransport(asMap(p.transport, "transport")),
    tools: asArray(p.tools, "tools").map((tool, i) => parseTool(asMap(tool, `tools[${i}]`), i)),
  };
  if (p.model !== undefined && p.model !== null) manifest.model = asString(p.model, "model");
  if (!/^[0-9a-fA-F]{64}$/.test(manifest.owner_pubkey)) {
    throw new ManifestError(`owner_pubkey must be 32 bytes of hex (64 characters), got ${manifest.owner_pubkey.length} characters`);
  }
  return manifest;
}

function parseTransport(t: CborMap): PodTransport {
  const transport: PodTransport = {
    preferred: asArray(t.preferred ?? [], "transport.preferred").map((x, i) => asString(x, `transport.preferred[${i}]`)),
  };
  for (const key of ["dartc", "webrtc"] as const) {
    const entry = optionalMap(t[key], `transport.${key}`);
    if (entry === undefined) continue;
    transport[key] = entry && {
      signal_url: asString(entry.signal_url, `transport.${key}.signal_url`),
      pod_id: asString(entry.pod_id, `transport.${key}.pod_id`),
    };
  }
  const direct = optionalMap(t.direct, "transport.direct");
  if (direct !== undefined) transport.direct = direct && { base_url: asString(direct.base_url, "transport.direct.base_url") };
  const fallback = optionalMap(t.fallback, "transport.fallback");
  if (fallback !== undefined) transport.fallback = fallback && { tier: asString(fallback.tier, "transport.fallback.tier") };
  return transport;
}

function parseTool(t: CborMap, i: number): PodTool {
  return { name: asString(t.name, `tools[${i}].name`), description: asString(t.description, `tools[${i}].description`) };
}

function optionalMap(v: CborValue, field: string): CborMap | null | undefined {
  if (v === undefined || v === null) return v;
  return asMap(v, field);
}

function asMap(v: CborValue, field: string): CborMap {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new ManifestError(`${field} must be a map`);
  }
  return v;
}

function asArray(v: CborValue, field: string): CborValue[] {
  if (!Array.isArray(v)) throw new ManifestError(`${field} must be an array`);
  return v;
}

function asString(v: CborValue, field: string): string {
  if (typeof v !== "string") throw new ManifestError(`manifest field ${field} must be a string`);
  return v;
}

function asNumber(v: CborValue, field: string): number {
  if (typeof v !== "number") throw new ManifestError(`manifest field ${field} must be a number`);
  return v;
}

/** GemmaPod's encoder writes byte fields as arrays of small integers; a byte string is accepted too. */
function asBytes(v: CborValue, field: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (!Array.isArray(v)) throw new ManifestError(`${field} must be bytes`);
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const b = v[i];
    if (typeof b !== "number" || !Number.isInteger(b) || b < 0 || b > 255) {
      throw new ManifestError(`${field}[${i}] is not a byte`);
    }
    out[i] = b;
  }
  return out;
}

function hexToBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}
