import type { Server } from "bun";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { ManifestError } from "../manifest/errors.ts";
import { createPod } from "../registry/create-pod.ts";
import { podIdsNamedBy, type PodBindings } from "../registry/bindings.ts";
import { PodDataError } from "../registry/damaged-pods.ts";
import { isManaged, type PodRecord, type Registry } from "../registry/types.ts";
import { pickEncoding, type Encoding } from "./accept-encoding.ts";
import { HttpError, jsonError } from "./errors.ts";
import { etagMatches, type PodCache, type ServedPod } from "./pod-cache.ts";
import type { StoreOutages } from "../registry/store-outages.ts";
import { readBodyLimited } from "./read-body.ts";
import { UploadGuard, type UploadPolicy } from "./upload-guard.ts";
import { META_HEADERS, podHeaders, type PodHeaderOptions } from "./security-headers.ts";

export interface PodRoutesOptions {
  registry: Registry;
  maxPodBytes: number;
  /** Base of the URLs handed back on upload; defaults to the request's own origin. */
  publicUrl?: string;
  podHeaderOptions?: PodHeaderOptions;
  /** Hot pod pages and their compressed forms. */
  cache: PodCache;
  /** Per-owner limits checked at upload (0 = none). */
  maxPodsPerOwner: number;
  maxBytesPerOwner: number;
  upload: UploadPolicy;
  /** Publishing a pod claims the pod ids its manifest names for its owner key (first claim wins). */
  bindings: PodBindings;
  /** Origins allowed by CORS on /pods; `["*"]` for any. */
  corsOrigins: string[];
  /** Told of every pod published and every page served (metrics, logs). */
  observer?: PodObserver;
  /** Stores found away; their failures answer 503/507 (see createApp). */
  outages?: StoreOutages;
}

export interface PodObserver {
  published(record: PodRecord): void;
  served(encoding: Encoding, bytes: number): void;
}

const ID = ":id{[A-Za-z0-9_-]{12}}";
const encoder = new TextEncoder();
/** A request waits at most this long for a page's fast compression (a big page, or a busy pool). */
const MAX_COMPRESSION_WAIT_MS = 2000;

export function podRoutes(options: PodRoutesOptions): Hono<{ Bindings: { server: Server<unknown> } }> {
  const { registry } = options;
  const servedHeaders = podHeaders(options.podHeaderOptions);
  const { cache } = options;
  const guard = new UploadGuard(options.upload);
  const app = new Hono<{ Bindings: { server: Server<unknown> } }>();

  const origins = options.corsOrigins.includes("*") ? "*" : options.corsOrigins;
  app.use("/pods", cors({ origin: origins, allowMethods: ["POST", "OPTIONS"], allowHeaders: ["Content-Type", "Authorization"] }));

  app.post("/pods", async (c) => {
    const { tokenOk } = guard.admit(c);
    const blob = await readPodUpload(c.req.raw, options.maxPodBytes);
    try {
      const { id, ownerPubkey, verified, record } = await createPod(registry, blob, async (v) => {
        guard.checkOwner(v, tokenOk);
        await checkQuota(v.manifest.owner_pubkey.toLowerCase(), blob.byteLength);
      });
      await Promise.all(podIdsNamedBy(verified.manifest).map((podId) => options.bindings.bind(podId, ownerPubkey)));
      cache.put(id, blob, ownerPubkey); // hash and start compressing at ingest, off the request path
      options.observer?.published(record);
      const base = options.publicUrl ?? new URL(c.req.url).origin;
      return c.json({ id, url: `${base}/${id}`, ownerPubkey, blobSize: blob.byteLength });
    } catch (error) {
      if (error instanceof ManifestError) return jsonError(400, error.message);
      throw error;
    }
  });

  app.on(["GET", "HEAD"], `/${ID}`, async (c) => {
    const id = c.req.param("id");
    const record = await recordOrCached(id);
    let pod = record?.pod;
    if (record && !pod) {
      const blob = await readBlob(id);
      if (blob instanceof Response) return blob;
      if (blob) pod = cache.put(id, blob, record.ownerPubkey);
    }
    if (!record || !pod) return missing(id);
    if (c.req.method === "GET") registry.bumpHits(id).catch(() => undefined);

    const accepted = c.req.header("accept-encoding") ?? null;
    // A page just uploaded (or reloaded) is being compressed fast: worth a few ms to never send identity.
    const wanted = pickEncoding(accepted, { br: true, gzip: true });
    if (wanted !== "identity" && !pod[wanted]) await waitAtMost(pod.ready[wanted], MAX_COMPRESSION_WAIT_MS);
    const encoding = pickEncoding(accepted, { br: pod.br !== undefined, gzip: pod.gzip !== undefined });
    const variant = encoding === "identity" ? pod.identity : pod[encoding]!;
    const revalidation = { ETag: variant.etag, Vary: "Accept-Encoding", "Cache-Control": servedHeaders["Cache-Control"]!, "X-Pod-Owner": record.ownerPubkey };
    if (etagMatches(c.req.header("if-none-match") ?? null, variant.etag)) return new Response(null, { status: 304, headers: revalidation });
    const headers: Record<string, string> = { ...servedHeaders, ...revalidation };
    if (encoding !== "identity") headers["Content-Encoding"] = encoding;
    headers["Content-Length"] = String(variant.bytes.byteLength);
    if (c.req.method === "GET") options.observer?.served(encoding, variant.bytes.byteLength);
    return new Response(variant.bytes, { headers });
  });

  app.get(`/${ID}/meta`, async (c) => {
    const record = await registry.getRecord(c.req.param("id"));
    if (!record) return missing(c.req.param("id"));
    return Response.json(record, { headers: META_HEADERS });
  });

  /**
   * The record is checked every time so a deleted pod stops being served at once. While the
   * records' store is away a cached page is served as it was: nothing can be deleted meanwhile.
   */
  async function recordOrCached(id: string): Promise<{ ownerPubkey: string; pod?: ServedPod } | null> {
    try {
      const record = await registry.getRecord(id);
      return record && { ownerPubkey: record.ownerPubkey, pod: cache.get(id) };
    } catch (error) {
      const pod = cache.get(id);
      if (pod?.owner && options.outages?.noticed(error)) return { ownerPubkey: pod.owner, pod };
      throw error;
    }
  }

  /** Per-owner quotas; concurrent uploads may overshoot by the few in flight. */
  async function checkQuota(owner: string, bytes: number): Promise<void> {
    const { maxPodsPerOwner, maxBytesPerOwner } = options;
    if ((!maxPodsPerOwner && !maxBytesPerOwner) || !isManaged(registry)) return;
    const usage = await registry.ownerUsage(owner);
    if (maxPodsPerOwner && usage.pods + 1 > maxPodsPerOwner) throw new HttpError(403, `this owner key has reached its quota of ${maxPodsPerOwner} pods`);
    if (maxBytesPerOwner && usage.bytes + bytes > maxBytesPerOwner) throw new HttpError(413, `this owner key's pods would exceed its quota of ${maxBytesPerOwner} bytes`);
  }

  /** The stored page, or a 500 when its record exists but the page is missing or damaged (the registry logs it). */
  async function readBlob(id: string): Promise<Uint8Array | null | Response> {
    try {
      return await registry.getBlob(id);
    } catch (error) {
      if (error instanceof PodDataError) return jsonError(500, "pod data is missing or damaged");
      throw error;
    }
  }

  /** 410 for a pod that was taken down (its tombstone), 404 for one that never was. */
  async function missing(id: string): Promise<Response> {
    const gone = isManaged(registry) && (await registry.isDeleted(id));
    return gone ? jsonError(410, "pod was deleted") : jsonError(404, "pod not found");
  }

  return app;
}

async function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  let timer: Timer | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** The pod page as uploaded: raw HTML/text bytes, or the `html` string of a JSON body. */
async function readPodUpload(req: Request, maxPodBytes: number): Promise<Uint8Array> {
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  if (type.startsWith("text/html") || type.startsWith("text/plain")) {
    const blob = await readBodyLimited(req, maxPodBytes);
    if (blob.byteLength === 0) throw new HttpError(400, "empty body: expected the pod's HTML");
    return blob;
  }
  if (type.startsWith("application/json")) {
    // JSON escaping inflates HTML; allow for it, then hold the pod itself to the limit.
    const body = await readBodyLimited(req, maxPodBytes * 2 + 1024);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new HttpError(400, "invalid JSON body");
    }
    const html = typeof parsed === "object" && parsed !== null ? (parsed as { html?: unknown }).html : undefined;
    if (typeof html !== "string" || html.length === 0) throw new HttpError(400, "JSON body needs a non-empty 'html' string");
    const blob = encoder.encode(html);
    if (blob.byteLength > maxPodBytes) throw new HttpError(413, `pod too large (limit ${maxPodBytes} bytes)`);
    return blob;
  }
  throw new HttpError(400, "expected content-type text/html, text/plain or application/json {html}");
}
