import { ManifestError } from "../manifest/errors.ts";
import { verifyPodBlob } from "../manifest/verify.ts";
import { podIdsNamedBy } from "./bindings.ts";
import type { VerifiedManifest } from "../manifest/types.ts";
import { newPodId } from "./pod-id.ts";
import type { PodRecord, Registry } from "./types.ts";

export interface CreatedPod {
  id: string;
  ownerPubkey: string;
  record: PodRecord;
  verified: VerifiedManifest;
}

const encoder = new TextEncoder();

/**
 * The one ingest path: verify the inlined signed manifest, then hand record and
 * blob to the registry. Nothing unverified ever reaches a backend.
 * Throws `ManifestError` for anything wrong with the pod itself.
 */
export async function createPod(
  registry: Registry,
  pod: string | Uint8Array,
  /** Runs after verification and before storing; throw to refuse (e.g. an owner not allowed). */
  accept?: (verified: VerifiedManifest) => void | Promise<void>,
): Promise<CreatedPod> {
  const blob = typeof pod === "string" ? encoder.encode(pod) : pod;
  const verified = await verifyPodBlob(blob);
  // Stored as text by every backend (Postgres text cannot hold NUL).
  for (const text of [verified.manifest.name, ...podIdsNamedBy(verified.manifest)]) {
    if (text.includes("\0")) throw new ManifestError("manifest name and pod ids must not contain NUL characters");
  }
  await accept?.(verified);
  const record: PodRecord = {
    id: newPodId(),
    name: verified.manifest.name,
    ownerPubkey: verified.manifest.owner_pubkey.toLowerCase(),
    manifestSize: verified.manifestSize,
    blobSize: blob.byteLength,
    createdAt: new Date().toISOString(),
    hits: 0,
  };
  await registry.putPod(record, blob);
  return { id: record.id, ownerPubkey: record.ownerPubkey, record, verified };
}
