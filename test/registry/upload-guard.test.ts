import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "../../src/config.ts";
import { MemoryRegistry } from "../../src/registry/memory.ts";
import { buildPod } from "../helpers/pods.ts";
import { startServer, tempDir, withServer, type TestServer } from "../helpers/server.ts";

const alice = buildPod({ podId: "alice-pod" });
const bob = buildPod({ podId: "bob-pod" });
const TOKEN = "s3cret-upload-token-0123456789";

const withMemoryServer = (options: Parameters<typeof startServer>[0], body: (srv: TestServer, registry: MemoryRegistry) => Promise<void>) => {
  const registry = new MemoryRegistry();
  return withServer({ registry, ...options }, (srv) => body(srv, registry));
};

const upload = (srv: TestServer, bytes: Uint8Array, headers: Record<string, string> = {}) =>
  fetch(`${srv.url}/pods`, { method: "POST", body: bytes, headers: { "Content-Type": "text/html", ...headers } });

describe("who may publish", () => {
  test("uploads per address are rate limited: 429 with Retry-After, nothing stored", () =>
    withMemoryServer({ uploadsPerMinute: 2 }, async (srv, registry) => {
      expect((await upload(srv, alice.bytes)).status).toBe(200);
      expect((await upload(srv, alice.bytes)).status).toBe(200);
      const res = await upload(srv, alice.bytes);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await res.json()).error).toMatch(/too many uploads/);
      expect(registry.size()).toBe(2);
    }));

  test("--allowed-owners accepts listed keys only", () =>
    withMemoryServer({ allowedOwners: new Set([alice.key.publicKey]) }, async (srv, registry) => {
      expect((await upload(srv, alice.bytes)).status).toBe(200);
      const refused = await upload(srv, bob.bytes);
      expect(refused.status).toBe(403);
      expect((await refused.json()).error).toBe("pods signed by this owner key are not accepted here");
      expect(registry.size()).toBe(1);
    }));

  test("--upload-token alone: 401 without it, 403 when wrong, 200 when right", () =>
    withMemoryServer({ uploadToken: TOKEN }, async (srv, registry) => {
      const missing = await upload(srv, alice.bytes);
      expect(missing.status).toBe(401);
      expect(missing.headers.get("www-authenticate")).toBe("Bearer");
      expect((await upload(srv, alice.bytes, { Authorization: "Bearer wrong-token-wrong-token" })).status).toBe(403);
      expect((await upload(srv, alice.bytes, { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
      expect(registry.size()).toBe(1);
    }));

  test("owner list and token together: either one admits", () =>
    withMemoryServer({ uploadToken: TOKEN, allowedOwners: new Set([alice.key.publicKey]) }, async (srv) => {
      expect((await upload(srv, alice.bytes)).status).toBe(200);
      expect((await upload(srv, bob.bytes)).status).toBe(403);
      expect((await upload(srv, bob.bytes, { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    }));

  test("CORS on /pods follows --cors-origins", () =>
    withMemoryServer({ corsOrigins: ["https://studio.example"] }, async (srv) => {
      const preflight = (origin: string) =>
        fetch(`${srv.url}/pods`, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST" } });
      expect((await preflight("https://studio.example")).headers.get("access-control-allow-origin")).toBe("https://studio.example");
      expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
    }));

  test("the flags parse: key lists, @files with comments, short tokens refused", () => {
    const file = join(tempDir(), "owners.txt");
    writeFileSync(file, `# team keys\n${alice.key.publicKey.toUpperCase()}\n\n${bob.key.publicKey} # bob\n`);
    const fromFile = parseArgs(["--allowed-owners", `@${file}`]);
    expect(fromFile.kind === "serve" && [...fromFile.config.allowedOwners!]).toEqual([alice.key.publicKey, bob.key.publicKey]);
    const inline = parseArgs([`--allowed-owners=${alice.key.publicKey},${bob.key.publicKey}`]);
    expect(inline.kind === "serve" && inline.config.allowedOwners!.size).toBe(2);
    expect(() => parseArgs(["--allowed-owners", "abc"])).toThrow(/not a 64-hex-character owner key/);
    expect(() => parseArgs(["--upload-token", "short"])).toThrow(/at least 16 characters/);
    const bare = parseArgs(["--trust-proxy", "--port", "9"]);
    expect(bare.kind === "serve" && bare.config.trustProxy && bare.config.port).toBe(9);
  });
});
