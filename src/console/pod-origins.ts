import { ManifestError } from "../manifest/errors.ts";
import { verifyPodBlob } from "../manifest/verify.ts";
import { podIdsNamedBy } from "../registry/bindings.ts";
import type { Registry } from "../registry/types.ts";
import type { PodCache } from "../http/pod-cache.ts";
import type { PodOrigins } from "./shared/api.ts";

/**
 * Whether a stored pod's origin is connected. An origin registers the pod id its
 * manifest names (or the registry id), so the manifest is read back to know them.
 * Null when there is no such pod.
 */
export async function podOrigins(id: string, registry: Registry, cache: PodCache, hasOrigin: (podId: string) => Promise<boolean>): Promise<PodOrigins | null> {
  if (!(await registry.getRecord(id))) return null;
  const blob = cache.get(id)?.identity ?? (await registry.getBlob(id));
  if (!blob) return null;
  const ids = [...new Set([id, ...(await namedPodIds(blob))])];
  const podIds = await Promise.all(ids.map(async (podId) => ({ podId, online: await hasOrigin(podId) })));
  return { id, online: podIds.some((p) => p.online), podIds };
}

/** A custom registry might hand back a page we cannot read; it then answers to its registry id only. */
async function namedPodIds(blob: Uint8Array): Promise<string[]> {
  try {
    return podIdsNamedBy((await verifyPodBlob(blob)).manifest);
  } catch (error) {
    if (error instanceof ManifestError) return [];
    throw error;
  }
}
