// Registry: POST /pods latency for a real ~1.1 MB signed pod, and GET /:id
// requests/s and bytes on the wire for it, for a client that accepts no
// encoding and for a browser that sends `Accept-Encoding: br, gzip`.
import { join } from "node:path";
import { buildPod } from "../../test/helpers/pods.ts";
import { targets } from "./figures.ts";
import type { HttpLoadOptions, HttpLoadResult } from "./http-load.ts";
import { cpuTime, waitUntilIdle } from "./proc.ts";
import { runJsonChild } from "./processes.ts";
import { HOST, startServer, type RunningServer } from "./servers.ts";
import { median } from "./stats.ts";
import { forEachRun, type SuiteContext } from "./suite.ts";

const LOAD = join(import.meta.dir, "http-load.ts");
const GET_CONNECTIONS = 8;
const POST_WARMUP = 1;
const BROWSER = { "Accept-Encoding": "br, gzip" };

async function postPod(server: RunningServer, bytes: Uint8Array): Promise<{ ms: number; id: string }> {
  const start = performance.now();
  const res = await fetch(`${server.url}/pods`, { method: "POST", headers: { "Content-Type": "text/html; charset=utf-8" }, body: bytes });
  const body = (await res.json()) as { id?: string; error?: string };
  const ms = performance.now() - start;
  if (!res.ok || !body.id) throw new Error(`POST /pods on ${server.spec.name}: ${res.status} ${JSON.stringify(body)}`);
  return { ms, id: body.id };
}

/** Status of a browser's revalidation: the validators of a first GET sent back. */
async function revalidationStatus(url: string): Promise<number> {
  const first = await fetch(url, { headers: BROWSER });
  await first.arrayBuffer();
  const conditional: Record<string, string> = { ...BROWSER };
  const etag = first.headers.get("etag");
  const modified = first.headers.get("last-modified");
  if (etag) conditional["If-None-Match"] = etag;
  if (modified) conditional["If-Modified-Since"] = modified;
  const again = await fetch(url, { headers: conditional });
  await again.arrayBuffer();
  return again.status;
}

/** A browser's first GET right after the upload: bytes on the wire and milliseconds. */
async function firstVisit(server: RunningServer, id: string): Promise<{ bytes: number; ms: number }> {
  const start = performance.now();
  const res = await fetch(`${server.url}/${id}`, { headers: BROWSER, decompress: false });
  const bytes = (await res.arrayBuffer()).byteLength;
  return { bytes, ms: performance.now() - start };
}

/**
 * Milliseconds from the end of an upload until the server hands a browser a
 * brotli body for it, or undefined if it goes idle still sending identity
 * (it does not compress, or gave up).
 */
async function timeUntilBrotli(server: RunningServer, id: string, uploadedAt: number): Promise<number | undefined> {
  const deadline = uploadedAt + 30_000;
  while (performance.now() < deadline) {
    const res = await fetch(`${server.url}/${id}`, { headers: { "Accept-Encoding": "br" }, decompress: false });
    await res.arrayBuffer();
    if (res.headers.get("content-encoding") === "br") return performance.now() - uploadedAt;
    if (await waitUntilIdle(server.pid, { windowMs: 50, budgetMs: 0, timeoutMs: 50 })) return undefined;
  }
  return undefined;
}

export async function registrySuite(ctx: SuiteContext): Promise<void> {
  const specs = ctx.specs.filter((s) => s.hasRegistry);
  const pod = buildPod({ name: "Bench pod" });
  const f = ctx.figures;
  const post = f.define({
    id: "registry.postMs",
    suite: "registry",
    label: `POST /pods verify+store, ${(pod.bytes.length / 1e6).toFixed(2)} MB pod`,
    unit: "ms",
    better: "lower",
    digits: 1,
    target: { text: "≤ 0.6× reference", met: targets.ratioAtMost(0.6, "reference") },
  });
  const brotliReady = f.define({
    id: "registry.brotliReadyMs",
    suite: "registry",
    label: "upload → first brotli GET /:id (background compression)",
    unit: "ms",
    better: "lower",
    digits: 0,
  });
  const firstBytes = f.define({
    id: "registry.firstGet.bytes",
    suite: "registry",
    label: "first GET /:id right after upload, bytes, Accept-Encoding: br, gzip",
    unit: "B",
    better: "lower",
    digits: 0,
    target: { text: "≤ page / 6", met: targets.oursAtMost(pod.bytes.length / 6) },
  });
  const firstMs = f.define({
    id: "registry.firstGet.ms",
    suite: "registry",
    label: "first GET /:id right after upload, ms, Accept-Encoding: br, gzip",
    unit: "ms",
    better: "lower",
    digits: 1,
  });
  const getIds = (["plain", "browser"] as const).map((kind) => {
    const who = kind === "plain" ? "no Accept-Encoding" : "Accept-Encoding: br, gzip";
    return {
      kind,
      headers: kind === "plain" ? {} : BROWSER,
      rps: f.define({
        id: `registry.get.${kind}.rps`,
        suite: "registry",
        label: `GET /:id requests/s, ${who}`,
        unit: "1/s",
        better: "higher",
        digits: 0,
        target: { text: "≥ 3× reference", met: targets.ratioAtLeast(3, "reference") },
      }),
      bytes: f.define({
        id: `registry.get.${kind}.bytes`,
        suite: "registry",
        label: `GET /:id bytes on the wire per response, ${who}`,
        unit: "B",
        better: "lower",
        digits: 0,
        // The reference sends identity: a settled brotli page is 7x smaller.
        target: kind === "browser" ? { text: "≤ reference / 7", met: targets.ratioAtMost(1 / 7, "reference") } : undefined,
      }),
      cpu: f.define({
        id: `registry.get.${kind}.cpu`,
        suite: "registry",
        label: `GET /:id server CPU per request, ${who}`,
        unit: "µs",
        better: "lower",
        digits: 0,
      }),
    };
  });
  const revalidation = f.define({
    id: "registry.revalidation",
    suite: "registry",
    label: "GET /:id revalidation (If-None-Match / If-Modified-Since) status",
    unit: "HTTP",
    better: "lower",
    digits: 0,
    noRatio: true,
    target: { text: "304", met: targets.oursEquals(304) },
  });
  const runs: unknown[] = [];
  const posts = ctx.quick ? 2 : 6;

  await forEachRun(ctx, specs, async (spec, rep) => {
    const server = await startServer(spec, join(ctx.outDir, "logs"));
    try {
      const latencies: number[] = [];
      let id = "";
      let uploadedAt = 0;
      for (let i = 0; i < POST_WARMUP + posts; i++) {
        // Each upload meets a quiet server: work a previous upload started in the background
        // (compression) must not slow this one down, nor be billed to the GETs below.
        await waitUntilIdle(server.pid);
        const r = await postPod(server, pod.bytes);
        uploadedAt = performance.now();
        if (i >= POST_WARMUP) latencies.push(r.ms);
        id = r.id;
      }
      f.add(post, spec.name, median(latencies));
      const first = await firstVisit(server, id);
      f.add(firstBytes, spec.name, first.bytes);
      f.add(firstMs, spec.name, first.ms);
      const brotliMs = await timeUntilBrotli(server, id, uploadedAt);
      f.add(brotliReady, spec.name, brotliMs);
      if (!(await waitUntilIdle(server.pid))) ctx.notes.push(`registry, ${spec.name}: server still busy 30 s after the last upload`);
      const status = await revalidationStatus(`${server.url}/${id}`);
      f.add(revalidation, spec.name, status);
      const gets: Record<string, HttpLoadResult> = {};
      for (const g of getIds) {
        const options: HttpLoadOptions = {
          host: HOST,
          port: Number(new URL(server.url).port),
          path: `/${id}`,
          headers: g.headers,
          connections: GET_CONNECTIONS,
          seconds: ctx.seconds,
          maxRequests: 1_000_000,
        };
        const before = cpuTime(server.pid);
        const r = await runJsonChild<HttpLoadResult>([process.execPath, LOAD, JSON.stringify(options)], (ctx.seconds + 60) * 1000);
        const after = cpuTime(server.pid);
        gets[g.kind] = r;
        const bad = Object.keys(r.statuses).filter((s) => s !== "200");
        if (r.error || bad.length) ctx.notes.push(`registry GET ${g.kind}, ${spec.name}: statuses ${JSON.stringify(r.statuses)}${r.error ? `, error ${r.error}` : ""}`);
        f.add(g.rps, spec.name, r.requestsPerSec);
        f.add(g.bytes, spec.name, r.bytesPerResponse);
        const usedMicros = after.userMicros + after.systemMicros - before.userMicros - before.systemMicros;
        f.add(g.cpu, spec.name, r.requests ? usedMicros / r.requests : undefined);
      }
      runs.push({ server: spec.name, rep, postMs: latencies, firstGet: first, brotliReadyMs: brotliMs, revalidationStatus: status, gets });
    } finally {
      await server.stop();
    }
  });
  ctx.details.registry = { podBytes: pod.bytes.length, posts, getConnections: GET_CONNECTIONS, seconds: ctx.seconds, runs };
}
