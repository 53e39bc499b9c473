import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DEFAULT_PERMISSIONS_POLICY, DEFAULT_POD_CSP } from "../../src/http/security-headers.ts";
import type { ManagedRegistry } from "../../src/registry/types.ts";
import { buildPod, manifestSpan, withManifest, type BuiltPod } from "../helpers/pods.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { ALL_KINDS, available, newSpot, storageServices } from "../helpers/storage.ts";

const pod: BuiltPod = buildPod({ podId: "registry-pod", name: "Registry Pod" });
const MAX_POD = 2 * 1024 * 1024;
const services = await storageServices();

for (const kind of ALL_KINDS) {
  describe.skipIf(!available(kind, services))(`POST /pods (${kind})`, () => {
    let srv: TestServer;
    let registry: ManagedRegistry;

    beforeAll(async () => {
      registry = await (await newSpot(kind, services)).open();
      srv = startServer({ registry, maxPodBytes: MAX_POD });
    });
    afterAll(() => srv.close());

    const post = (body: BodyInit, type: string | null = "text/html", extra: Record<string, string> = {}) =>
      fetch(`${srv.url}/pods`, { method: "POST", body, headers: { ...(type ? { "Content-Type": type } : {}), ...extra } });
    const stored = async () => (await registry.listPods({ limit: 1000 })).pods.length;

    async function expectRejected(res: Response, status: number, error: RegExp) {
      const before = await stored();
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/json");
      const body = await res.json();
      expect(body.error).toMatch(error);
      expect(await stored()).toBe(before);
    }

    test("accepts a real signed pod as text/html and serves it back byte for byte", async () => {
      const res = await post(pod.bytes);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.id).toMatch(/^[A-Za-z0-9_-]{12}$/);
      expect(body).toEqual({ id: body.id, url: `${srv.url}/${body.id}`, ownerPubkey: pod.key.publicKey, blobSize: pod.bytes.byteLength });

      const page = await fetch(body.url);
      expect(page.status).toBe(200);
      expect(new Uint8Array(await page.arrayBuffer())).toEqual(pod.bytes);
      expect(Object.fromEntries(page.headers)).toMatchObject({
        "content-type": "text/html; charset=utf-8",
        "x-pod-owner": pod.key.publicKey,
        "x-content-type-options": "nosniff",
        "referrer-policy": "strict-origin-when-cross-origin",
        "cache-control": "public, max-age=300, must-revalidate",
        "content-security-policy": DEFAULT_POD_CSP,
        "permissions-policy": DEFAULT_PERMISSIONS_POLICY,
      });
      expect(DEFAULT_POD_CSP).toBe(
        "default-src 'none'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval' https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline'; connect-src 'self' wss: stun: https://cdn.jsdelivr.net https://huggingface.co https://*.hf.co https://cas-bridge.xethub.hf.co; worker-src 'self' blob:; img-src 'self' data: blob:; font-src 'self' data:; frame-ancestors *; form-action 'none'; base-uri 'self'",
      );
    });

    test("accepts text/plain and application/json {html}", async () => {
      const plain = await post(pod.bytes, "text/plain; charset=utf-8");
      expect(plain.status).toBe(200);
      const json = await post(JSON.stringify({ html: pod.html }), "application/json");
      expect(json.status).toBe(200);
      const { id, blobSize } = await json.json();
      expect(blobSize).toBe(pod.bytes.byteLength);
      expect(new Uint8Array(await (await fetch(`${srv.url}/${id}`)).arrayBuffer())).toEqual(pod.bytes);
    });

    test("meta returns the record, counts hits, and is never cached", async () => {
      const { id } = await (await post(pod.bytes)).json();
      await fetch(`${srv.url}/${id}`).then((r) => r.arrayBuffer());
      await fetch(`${srv.url}/${id}`).then((r) => r.arrayBuffer());
      const res = await fetch(`${srv.url}/${id}/meta`);
      expect(res.headers.get("cache-control")).toBe("private, no-store");
      const meta = await res.json();
      expect(meta).toEqual({
        id,
        name: "Registry Pod",
        ownerPubkey: pod.key.publicKey,
        manifestSize: expect.any(Number),
        blobSize: pod.bytes.byteLength,
        createdAt: expect.any(String),
        hits: 2,
      });
      expect(meta.manifestSize).toBe(Buffer.from(manifestSpan(pod.html).b64, "base64").length);
      expect(Date.parse(meta.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    });

    test("unknown ids are JSON 404s", async () => {
      for (const path of ["/AAAAAAAAAAAA", "/AAAAAAAAAAAA/meta", "/short", "/not/a/route"]) {
        const res = await fetch(`${srv.url}${path}`);
        expect(res.status).toBe(404);
        expect((await res.json()).error).toBeString();
      }
    });

    const tamperCases: [string, () => string, RegExp][] = [
      ["no manifest", () => "<html><body>hello</body></html>", /missing __GEMMAPOD_MANIFEST_B64/],
      ["bad base64", () => withManifest(pod.html, "abc"), /not valid base64/],
      ["base64 of garbage", () => withManifest(pod.html, btoa("hello world!")), /not valid CBOR|must be a map/],
      ["truncated CBOR", () => withManifest(pod.html, Buffer.from(Buffer.from(manifestSpan(pod.html).b64, "base64").subarray(0, 300)).toString("base64")), /truncated/],
      ["a changed system prompt", () => changeSignedText(pod.html, "You are a test pod", "Xou are a test pod"), /signature verification failed/],
      ["a flipped signature byte", () => flipManifestByte(pod.html, "sig", 10), /signature verification failed/],
      ["another owner's key", () => swapOwnerKey(pod.html), /signature verification failed/],
    ];
    test.each(tamperCases)("rejects a pod with %s: 400, nothing stored", async (_name, make, error) => {
      await expectRejected(await post(make()), 400, error);
    });

    test("rejects a signed pod whose name or pod id holds a NUL (no backend stores it): 400", async () => {
      await expectRejected(await post(buildPod({ podId: "nul\u0000id" }).bytes), 400, /must not contain NUL/);
      await expectRejected(await post(buildPod({ podId: "nul-name", name: "a\u0000b" }).bytes), 400, /must not contain NUL/);
    });

    test("rejects wrong content types, bad JSON and empty bodies with 400", async () => {
      await expectRejected(await post(pod.bytes, "application/octet-stream"), 400, /expected content-type/);
      await expectRejected(await post(pod.bytes, null), 400, /expected content-type/);
      await expectRejected(await post("{nope", "application/json"), 400, /invalid JSON/);
      await expectRejected(await post("[]", "application/json"), 400, /'html' string/);
      await expectRejected(await post('{"html":5}', "application/json"), 400, /'html' string/);
      await expectRejected(await post("", "text/html"), 400, /empty body/);
    });

    test("refuses an over-size pod with 413, declared or streamed", async () => {
      const big = new Uint8Array(MAX_POD + 1).fill(0x61);
      await expectRejected(await post(big), 413, /too large/);
      // Chunked, no Content-Length: cut off while streaming.
      let sent = 0;
      const stream = new ReadableStream({
        pull(controller) {
          if (sent > MAX_POD * 4) return controller.close();
          sent += 256 * 1024;
          controller.enqueue(new Uint8Array(256 * 1024).fill(0x62));
        },
      });
      await expectRejected(await post(stream), 413, /too large/);
      expect(sent).toBeLessThan(MAX_POD * 4);
      await expectRejected(await post(JSON.stringify({ html: "a".repeat(MAX_POD + 1) }), "application/json"), 413, /too large/);
    });

    test("bodies far over every limit get a JSON 413 on any route, declared or chunked", async () => {
      const huge = new Uint8Array(MAX_POD * 3);
      for (const path of ["/pods", "/health", "/AAAAAAAAAAAA"]) {
        const res = await fetch(`${srv.url}${path}`, { method: "POST", body: huge, headers: { "Content-Type": "application/json" } });
        expect(res.status).toBe(413);
        expect((await res.json()).error).toMatch(/too large/);
      }
      let sent = 0;
      const stream = new ReadableStream({
        pull(controller) {
          if (sent > MAX_POD * 8) return controller.close();
          sent += 1 << 20;
          controller.enqueue(new Uint8Array(1 << 20).fill(0x20));
        },
      });
      await expectRejected(await post(stream, "application/json"), 413, /too large/);
      expect(sent).toBeLessThan(MAX_POD * 8);
    });

    test("CORS preflight on /pods is allowed", async () => {
      const res = await fetch(`${srv.url}/pods`, { method: "OPTIONS", headers: { Origin: "https://example.test", "Access-Control-Request-Method": "POST" } });
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    });
  });
}

describe("pod headers are configurable", () => {
  test("podHeaderOptions overrides CSP and Permissions-Policy; --public-url shapes URLs", async () => {
    const custom = startServer({ podHeaderOptions: { csp: "default-src 'self'", permissionsPolicy: "camera=()" }, publicUrl: "https://pods.example.test" });
    try {
      const res = await fetch(`${custom.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
      const { id, url } = await res.json();
      expect(url).toBe(`https://pods.example.test/${id}`);
      const page = await fetch(`${custom.url}/${id}`);
      expect(page.headers.get("content-security-policy")).toBe("default-src 'self'");
      expect(page.headers.get("permissions-policy")).toBe("camera=()");
    } finally {
      await custom.close();
    }
  });
});

/**
 * Flips the low bit of one element of the envelope's `sig` integer
 * array. XOR 1 never crosses the 23/24 encoding boundary, so the CBOR stays well-formed.
 */
function flipManifestByte(html: string, field: "sig", index: number): string {
  const bytes = Buffer.from(manifestSpan(html).b64, "base64");
  let at = bytes.indexOf(Buffer.from(field)) + field.length;
  const header = bytes[at]!;
  at += header === 0x98 ? 2 : header === 0x99 ? 3 : 1; // array head: 1-byte or 2-byte length
  for (let i = 0; i < index; i++) at += bytes[at] === 0x18 ? 2 : 1;
  if (bytes[at] === 0x18) at++;
  bytes[at] = bytes[at]! ^ 0x01;
  return withManifest(html, bytes.toString("base64"));
}

/** Replaces signed text of the same length inside the payload (written as an array of ints). */
function changeSignedText(html: string, from: string, to: string): string {
  const bytes = Buffer.from(manifestSpan(html).b64, "base64");
  const encode = (b: Buffer) => Buffer.concat([...b].map((x) => (x < 24 ? Buffer.from([x]) : Buffer.from([0x18, x]))));
  const at = bytes.indexOf(encode(Buffer.from(from)));
  if (at === -1) throw new Error(`${from} not found in envelope`);
  encode(Buffer.from(to)).copy(bytes, at);
  return withManifest(html, bytes.toString("base64"));
}

/** Replaces owner_pubkey inside the signed payload with another valid key. */
function swapOwnerKey(html: string): string {
  return changeSignedText(html, pod.key.publicKey, buildPod({ podId: "other-owner" }).key.publicKey);
}
