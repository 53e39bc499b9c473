// Issue 11 item 3: the first visitors of a new pod get it compressed, not as identity.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { buildPod, type BuiltPod } from "../helpers/pods.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const BROWSER = { "Accept-Encoding": "br, gzip" };
let pod: BuiltPod;

beforeAll(() => {
  pod = buildPod({ podId: "first-visit-pod" });
});

async function upload(srv: TestServer): Promise<string> {
  const res = await fetch(`${srv.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

/** Status, encoding, ETag and raw bytes as sent (no transparent decompression). */
async function get(srv: TestServer, id: string, headers: Record<string, string>) {
  const res = await fetch(`${srv.url}/${id}`, { headers, decompress: false } as RequestInit);
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, encoding: res.headers.get("content-encoding"), etag: res.headers.get("etag"), body };
}

describe("first visit after upload", () => {
  let srv: TestServer;
  beforeAll(() => {
    srv = startServer();
  });
  afterAll(() => srv.close());

  test("GET right after POST gets brotli with at least 6x fewer bytes, then settles to at least 7x", async () => {
    const id = await upload(srv);
    const first = await get(srv, id, BROWSER);
    expect(first.encoding).toBe("br");
    expect(first.body.byteLength * 6).toBeLessThanOrEqual(pod.bytes.byteLength);
    expect(new Uint8Array(zlib.brotliDecompressSync(first.body))).toEqual(pod.bytes);

    let settled = first;
    for (let i = 0; i < 350 && settled.body.byteLength * 7 > pod.bytes.byteLength; i++) {
      await Bun.sleep(50);
      settled = await get(srv, id, BROWSER);
    }
    expect(settled.encoding).toBe("br");
    expect(settled.body.byteLength * 7).toBeLessThanOrEqual(pod.bytes.byteLength);
    expect(new Uint8Array(zlib.brotliDecompressSync(settled.body))).toEqual(pod.bytes);
    // Different bytes, different strong ETag.
    expect(settled.etag).not.toBe(first.etag);
  }, 20_000);

  test("each representation has its own strong ETag, and 304 works for each", async () => {
    const id = await upload(srv);
    const variants = [
      { headers: BROWSER, encoding: "br" },
      { headers: { "Accept-Encoding": "gzip" }, encoding: "gzip" },
      { headers: {} as Record<string, string>, encoding: null },
    ];
    const etags = new Set<string>();
    for (const v of variants) {
      const res = await get(srv, id, v.headers);
      expect(res.encoding).toBe(v.encoding);
      expect(res.etag).toMatch(/^"[^"]+"$/);
      etags.add(res.etag!);
      const again = await get(srv, id, { ...v.headers, "If-None-Match": res.etag! });
      expect(again.status).toBe(304);
      expect(again.etag).toBe(res.etag);
    }
    expect(etags.size).toBe(3);
    // The identity ETag does not validate a brotli response.
    const identityTag = [...etags].at(-1)!;
    expect((await get(srv, id, { ...BROWSER, "If-None-Match": identityTag })).status).toBe(200);
  }, 15_000);
});

test("a pod evicted from the cache is compressed again before its next visitor gets it", async () => {
  // Room for one pod and its compressed forms, not two.
  const srv = startServer({ podCacheBytes: Math.floor(pod.bytes.byteLength * 1.8) });
  try {
    const evicted = await upload(srv);
    await upload(srv);
    const res = await get(srv, evicted, BROWSER);
    expect(res.encoding).toBe("br");
    expect(res.body.byteLength * 6).toBeLessThanOrEqual(pod.bytes.byteLength);
  } finally {
    await srv.close();
  }
}, 15_000);

test("with the cache disabled pages go out as stored (compressing per request would cost more CPU than it saves)", async () => {
  const srv = startServer({ podCacheBytes: 0 });
  try {
    const id = await upload(srv);
    const res = await get(srv, id, BROWSER);
    expect(res.status).toBe(200);
    expect(res.encoding).toBeNull();
    expect(res.body).toEqual(pod.bytes);
  } finally {
    await srv.close();
  }
}, 15_000);
