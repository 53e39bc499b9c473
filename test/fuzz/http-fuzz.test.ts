// 10,000+ seeded hostile HTTP requests at a running server: odd methods, paths,
// headers, content types, truncated/oversized/mutated bodies, mutated real pods.
// Never a 5xx, never a crash, nothing invalid stored, signaling still works.
import { expect, test } from "bun:test";
import { verifyPodBlob } from "../../src/manifest/verify.ts";
import { MemoryRegistry } from "../../src/registry/memory.ts";
import { buildPod, manifestSpan } from "../helpers/pods.ts";
import { startServer } from "../helpers/server.ts";
import { registeredOrigin, TestSocket } from "../helpers/ws-client.ts";
import { mutateText, randomJson, seeded, type Rng } from "./random.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 1123);
const REQUESTS = 10_000;
const CONCURRENCY = 32;
const MAX_POD = 2 * 1024 * 1024;

const pod = buildPod({ podId: "fuzz-http-pod" });
const manifestAt = manifestSpan(pod.html).start;

function mutatedPod(rng: Rng): Uint8Array {
  const bytes = pod.bytes.slice();
  // Mostly inside the signed manifest, sometimes truncated, now and then anywhere
  // (which usually leaves the signed part intact: a valid pod, stored).
  const kind = rng.pick([0, 0, 0, 1, 2, 2]);
  if (kind === 2) return bytes.subarray(0, rng.int(bytes.length));
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = kind === 0 ? manifestAt + rng.int(1400) : rng.int(bytes.length);
    bytes[at] = rng.int(256);
  }
  return bytes;
}

const RONDEVU_POSTS = ["/rondevu/t/offer", "/rondevu/answer", "/rondevu/poll", "/rondevu/leave", `/rondevu/${"t".repeat(300)}/offer`];

function hostileRequest(rng: Rng, base: string): [string, RequestInit] {
  // A fifth aims at uploads and a tenth at Rondevu writes; the rest goes anywhere.
  const aim = rng.next();
  const method = aim < 0.3 ? "POST" : rng.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "POST", "POST"]);
  const path = aim < 0.2 ? "/pods" : aim < 0.3 ? rng.pick(RONDEVU_POSTS) : rng.pick([
    "/pods", "/pods", "/pods", "/health", "/AAAAAAAAAAAA", "/AAAAAAAAAAAA/meta", `/${"a".repeat(12)}/../pods`, "/%00", "/%ZZ", "/%2e%2e/%2e%2e/etc/passwd",
    `/${"x".repeat(4000)}`, "/admin/pods?limit=-1&cursor=%00", "/owners/zz/pods", `/owners/${"a".repeat(64)}/pods`, "/rondevu/%F0%9F%92%A9/offer", "/rondevu/answer", "/rondevu/poll", "/rondevu/?page=NaN", "/signal", "//pods", "/pods?x=" + "%".repeat(50),
  ]);
  const headers: Record<string, string> = {};
  if (rng.next() < 0.8) headers["Content-Type"] = rng.pick(["text/html", "text/plain", "application/json", "application/json; charset=utf-8", "multipart/form-data; boundary=x", "application/octet-stream", "text/html;;;", "x".repeat(500), ""]);
  if (rng.next() < 0.3) headers["Accept-Encoding"] = rng.pick(["br;q=abc, gzip;q=-1", "*;q=0", "identity;q=0, *;q=0", ",,,", "gzip".repeat(200)]);
  if (rng.next() < 0.2) headers["If-None-Match"] = rng.pick(['"', "*", "W/", '"a", , W/"b"', "x".repeat(2000)]);
  if (rng.next() < 0.2) headers.Authorization = rng.pick(["Bearer ", "GemmaPod-Ed25519 ", `GemmaPod-Ed25519 ${"a".repeat(64)}.1.${"b".repeat(86)}`, "Basic Zm9vOmJhcg==", "x".repeat(3000)]);
  if (rng.next() < 0.2) headers.Origin = rng.pick(["null", "https://a.example", "x".repeat(300)]);
  if (rng.next() < 0.2) headers["X-Forwarded-For"] = rng.pick(["1.2.3.4", ",,,", "::1, 999.999.1.1"]);
  let body: BodyInit | undefined;
  if (method !== "GET" && method !== "HEAD") {
    // Body kinds below: 0 mutated pod, 1 pod wrapped in JSON, 2-4 random JSON, 5-6 mutated
    // Rondevu JSON, 7 random bytes, 8 over-size, 9 empty.
    const r = aim < 0.2 ? rng.pick([0, 0, 0, 1, 1, 2, 7, 8, 9]) : aim < 0.3 ? rng.pick([2, 5, 5, 6, 6, 9]) : rng.int(10);
    if (r < 1) body = mutatedPod(rng);
    else if (r < 2) body = JSON.stringify({ html: new TextDecoder().decode(mutatedPod(rng).subarray(0, 300_000)) });
    else if (r < 5) body = JSON.stringify(randomJson(rng));
    else if (r < 7) body = mutateText(rng, JSON.stringify({ info: "i", offer: "o", code: "c", side: "offerer", html: "<html>" }));
    else if (r < 8) body = crypto.getRandomValues(new Uint8Array(rng.int(65536)));
    else if (r < 9) body = new Uint8Array(MAX_POD * 2 + rng.int(1024)).fill(0x41);
    else body = "";
  }
  return [`${base}${path}`, { method, headers, body, redirect: "manual" }];
}

test(`server survives ${REQUESTS} seeded hostile HTTP requests (seed ${SEED})`, async () => {
  const registry = new MemoryRegistry();
  const srv = startServer({ registry, maxPodBytes: MAX_POD, uploadsPerMinute: 1_000_000, rondevuRate: 1_000_000 });
  try {
    const rssBefore = process.memoryUsage().rss;
    const rng = seeded(SEED);
    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < REQUESTS) {
        next++;
        const [url, init] = hostileRequest(rng, srv.url);
        try {
          const res = await fetch(url, init);
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500 && res.status !== 501 && res.status !== 503) serverErrors.push(`${init.method} ${url.slice(0, 80)} → ${res.status}`);
        } catch (error) {
          // A refused oversize upload may reset the connection mid-body: fine, the server answered.
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
        }
      }
    };
    const negotiate = async (podId: string) => {
      const origin = await registeredOrigin(srv.wsUrl, podId);
      const visitor = await TestSocket.open(srv.wsUrl);
      visitor.send({ t: "offer", podId, sessionId: `${podId}-s`, sdp: "o" });
      await origin.next({ t: "offer" }, 20_000);
      origin.send({ t: "answer", sessionId: `${podId}-s`, sdp: "a" });
      await visitor.next({ t: "answer" }, 20_000);
      origin.close();
      visitor.close();
    };
    await Promise.all([...Array.from({ length: CONCURRENCY }, worker), negotiate("legit-during")]);
    console.log(`http fuzz: ${REQUESTS} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);

    expect(serverErrors).toEqual([]);
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    // Nothing invalid was stored: every stored page verifies.
    const { pods } = await registry.listPods({ limit: 100_000 });
    for (const record of pods) await verifyPodBlob((await registry.getBlob(record.id))!);
    console.log(`http fuzz: ${pods.length} pods stored, all verify`);
    // Still a working broker and registry afterwards.
    const upload = await fetch(`${srv.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
    expect(upload.status).toBe(200);
    await negotiate("legit-after");
    // Memory stays bounded: 10k requests (many multi-MB bodies) leave no lasting growth
    // beyond the pods the memory registry now holds.
    Bun.gc(true);
    const storedMb = pods.reduce((sum, r) => sum + r.blobSize, 0) / 1024 / 1024;
    const growthMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024 - storedMb;
    console.log(`http fuzz: RSS growth ${growthMb.toFixed(0)} MB beyond ${storedMb.toFixed(0)} MB of stored pods`);
    expect(growthMb).toBeLessThan(256);
  } finally {
    await srv.close();
  }
}, 60_000);
