import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { pickEncoding } from "../../src/http/accept-encoding.ts";
import { etagMatches, PodCache } from "../../src/http/pod-cache.ts";
import { MemoryRegistry } from "../../src/registry/memory.ts";
import { buildPod, type BuiltPod } from "../helpers/pods.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let srv: TestServer;
let registry: MemoryRegistry;
let pod: BuiltPod;
let id: string;

beforeAll(async () => {
  pod = buildPod({ podId: "serving-pod" });
  registry = new MemoryRegistry();
  srv = startServer({ registry });
  ({ id } = await (await fetch(`${srv.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } })).json());
});
afterAll(() => srv.close());

/** Raw bytes as sent, without fetch's transparent decompression. */
const get = (headers: Record<string, string> = {}, method = "GET") => fetch(`${srv.url}/${id}`, { method, headers, decompress: false } as RequestInit);

async function untilEncoded(encoding: string): Promise<Response> {
  for (let i = 0; i < 100; i++) {
    const res = await get({ "Accept-Encoding": encoding });
    if (res.headers.get("content-encoding") === encoding) return res;
    await res.arrayBuffer();
    await Bun.sleep(100);
  }
  throw new Error(`never served ${encoding}`);
}

describe("GET /:id serving", () => {
  test("brotli for browsers that accept it: >5x fewer bytes, identical once decoded", async () => {
    const res = await untilEncoded("br");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(res.headers.get("vary")).toBe("Accept-Encoding");
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(body.byteLength * 5).toBeLessThan(pod.bytes.byteLength);
    expect(new Uint8Array(zlib.brotliDecompressSync(body))).toEqual(pod.bytes);
  });

  test("gzip when brotli is not accepted; identity when nothing is", async () => {
    const gz = await get({ "Accept-Encoding": "gzip, deflate" });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(new Uint8Array(zlib.gunzipSync(new Uint8Array(await gz.arrayBuffer())))).toEqual(pod.bytes);
    const plain = await get({ "Accept-Encoding": "identity" });
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(new Uint8Array(await plain.arrayBuffer())).toEqual(pod.bytes);
    const refused = await get({ "Accept-Encoding": "br;q=0, gzip;q=0" });
    expect(refused.headers.get("content-encoding")).toBeNull();
    await refused.arrayBuffer();
  });

  test("a strong ETag per representation, and 304 on revalidation", async () => {
    const first = await get();
    const etag = first.headers.get("etag")!;
    await first.arrayBuffer();
    expect(etag).toBe(`"${new Bun.CryptoHasher("sha256").update(pod.bytes).digest("base64url")}"`);
    const again = await get({ "If-None-Match": etag });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(await again.text()).toBe("");
    expect((await get({ "If-None-Match": '"other"' })).status).toBe(200);
    const br = await get({ "Accept-Encoding": "br" });
    await br.arrayBuffer();
    expect(br.headers.get("etag")).not.toBe(etag);
    expect((await get({ "If-None-Match": br.headers.get("etag")!, "Accept-Encoding": "br" })).status).toBe(304);
  });

  test("HEAD answers headers without a body and does not count a hit", async () => {
    const hitsBefore = (await registry.getRecord(id))!.hits;
    const res = await get({}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toStartWith('"');
    expect(res.headers.get("x-pod-owner")).toBe(pod.key.publicKey);
    expect(await res.text()).toBe("");
    expect((await registry.getRecord(id))!.hits).toBe(hitsBefore);
  });

  test("a pod removed from the registry stops being served at once (410 Gone)", async () => {
    const { id: doomed } = await (await fetch(`${srv.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } })).json();
    expect((await fetch(`${srv.url}/${doomed}`)).status).toBe(200);
    await registry.deletePod(doomed);
    expect((await fetch(`${srv.url}/${doomed}`)).status).toBe(410);
  });
});

describe("serving helpers", () => {
  test.each([
    [null, "identity"],
    ["", "identity"],
    ["gzip, deflate, br", "br"],
    ["gzip;q=1, br;q=0.5", "gzip"],
    ["br;q=0", "identity"],
    ["br;q=0, *", "gzip"],
    ["*", "br"],
    ["identity", "identity"],
    ["x-gzip", "gzip"],
  ])("Accept-Encoding %p picks %p", (header, expected) => {
    expect(pickEncoding(header as string | null, { br: true, gzip: true })).toBe(expected as any);
  });

  test("falls back to what is ready", () => {
    expect(pickEncoding("br, gzip", { br: false, gzip: true })).toBe("gzip");
    expect(pickEncoding("br, gzip", { br: false, gzip: false })).toBe("identity");
  });

  test("If-None-Match lists, weak tags and *", () => {
    expect(etagMatches('"a", W/"b"', '"b"')).toBe(true);
    expect(etagMatches("*", '"b"')).toBe(true);
    expect(etagMatches('"a"', '"b"')).toBe(false);
    expect(etagMatches(null, '"b"')).toBe(false);
  });

  test("the cache stays within its byte budget", () => {
    const cache = new PodCache(1000);
    for (let i = 0; i < 20; i++) cache.put(`pod-${i}`, new Uint8Array(300));
    expect(cache.size().bytes).toBeLessThanOrEqual(1000);
    expect(cache.get("pod-19")).toBeDefined();
    expect(cache.get("pod-0")).toBeUndefined();
    expect(cache.put("huge", new Uint8Array(5000)).identity.etag).toStartWith('"');
    expect(cache.get("huge")).toBeUndefined();
  });

  test("pages are compressed only while cached, and settle to brotli 11", async () => {
    const page = (i: number) => new TextEncoder().encode(`<!doctype html><title>${i}</title>` + `<p>pod ${i} says hello</p>`.repeat(4000));
    const size = page(0).byteLength;
    // Room for 5 pages and their (tiny, repetitive text) compressed forms.
    const cache = new PodCache(Math.floor(size * 5.5));
    // A flood of uploads: only what the cache holds waits for compression.
    for (let i = 0; i < 40; i++) cache.put(`pod-${i}`, page(i));
    expect(cache.size().entries).toBe(5);
    expect(cache.size().waiting).toBeLessThanOrEqual(5);
    const kept = Array.from({ length: 40 }, (_, i) => cache.get(`pod-${i}`)).filter((p) => p !== undefined);
    expect(kept.length).toBe(5);
    // Each ends with the settled brotli (quality 11, unless no smaller than the fast one) and gzip 6.
    for (let rounds = 0; cache.size().waiting > 0; rounds++) {
      expect(rounds).toBeLessThan(3000);
      expect(cache.size().waiting).toBeLessThanOrEqual(5);
      await Bun.sleep(2);
    }
    expect(cache.size()).toMatchObject({ entries: 5, waiting: 0 });
    for (const p of kept) expect([p.br?.etag.split(".").at(-1), p.gzip?.etag.split(".").at(-1)]).toEqual([expect.stringMatching(/^br(5|11)"$/), 'gzip6"']);
    for (const p of kept) expect(new Uint8Array(zlib.brotliDecompressSync(p.br!.bytes))).toEqual(p.identity.bytes);
  });
});
