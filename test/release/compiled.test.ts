// The release executable for this machine, built by scripts/release.ts exactly as
// published, checked end to end as a user would run it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { basename, join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { artifactName, hostPlatform, release, type ReleaseResult } from "../../scripts/release.ts";
import { runCommand, spawnServer } from "../helpers/cli.ts";
import { buildPod } from "../helpers/pods.ts";
import { tempDir } from "../helpers/server.ts";
import { registeredOrigin, TestSocket } from "../helpers/ws-client.ts";

const dir = tempDir("gemmapod-compiled-");
const dataDir = join(dir, "data");
let binary: string;
let built: ReleaseResult;

beforeAll(async () => {
  const platform = hostPlatform();
  if (!platform) throw new Error(`no release platform for ${process.platform}-${process.arch}`);
  built = await release({ outDir: dir, platforms: [platform] });
  binary = join(dir, artifactName(pkg.version, platform));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) => runCommand([binary, ...args]);

describe("release executable for this machine", () => {
  test("is named for its version and platform and listed in SHA256SUMS", async () => {
    expect(built.failed).toEqual([]);
    expect(built.built).toEqual([binary]);
    expect(built.checksums).toMatch(new RegExp(`^[0-9a-f]{64}  ${basename(binary).replaceAll(".", "\\.")}\n$`));
    // The step the README tells users to run.
    const check = Bun.spawnSync(["sha256sum", "--ignore-missing", "-c", "SHA256SUMS"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    expect(check.stdout.toString()).toBe(`${basename(binary)}: OK\n`);
    expect(check.exitCode).toBe(0);
  });

  test("prints the version baked in at build time", async () => {
    expect(await run(["--version"])).toEqual({ code: 0, out: `${pkg.version}\n`, err: "" });
  });

  test("serves a real pod and a signaling session from SQLite, then stops cleanly on SIGTERM", async () => {
    const server = await spawnServer(["--registry", "sqlite", "--data-dir", dataDir], { command: [binary] });
    const wsUrl = `${server.url.replace(/^http/, "ws")}/signal`;
    let exit: number | null | undefined;
    try {
      expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true, origins: [], sessions: 0, registry: "sqlite", damagedPods: 0, storesAway: [], warnings: [] });
      expect(await run(["healthcheck", "--url", server.url])).toMatchObject({ code: 0 });

      const pod = buildPod({ podId: "compiled-pod" });
      const res = await fetch(`${server.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
      expect(res.status).toBe(200);
      const { id, url, ownerPubkey, blobSize } = await res.json();
      expect({ ownerPubkey, blobSize }).toEqual({ ownerPubkey: pod.key.publicKey, blobSize: pod.bytes.byteLength });
      expect(new Uint8Array(await (await fetch(url)).arrayBuffer())).toEqual(pod.bytes);

      const origin = await registeredOrigin(wsUrl, id);
      const visitor = await TestSocket.open(wsUrl);
      visitor.send({ t: "offer", podId: id, sessionId: "compiled-session", sdp: "v=0 offer" });
      expect(await origin.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "compiled-session", sdp: "v=0 offer" });
      expect(await (await fetch(`${server.url}/health`)).json()).toMatchObject({ origins: [id], sessions: 1 });
      origin.send({ t: "answer", sessionId: "compiled-session", sdp: "v=0 answer" });
      expect(await visitor.next({ t: "answer" })).toEqual({ t: "answer", sessionId: "compiled-session", sdp: "v=0 answer" });
      const candidate = { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0 };
      visitor.send({ t: "candidate", podId: id, sessionId: "compiled-session", candidate });
      expect(await origin.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "compiled-session", candidate });

      // The browser client is bundled from sources the executable carries inside it.
      const client = await fetch(`${server.url}/client/peer.js`);
      expect(client.status).toBe(200);
      expect(client.headers.get("etag")).toBeTruthy();
      expect(await client.text()).toContain("gemmapod-auth:");

      exit = await server.stop("SIGTERM");
      // Shutting down closes the sockets it holds rather than leaving them to time out.
      await Promise.all([origin.closed, visitor.closed]);
    } finally {
      if (exit === undefined) server.proc.kill("SIGKILL");
    }
    expect(exit).toBe(0);
    expect(server.output()).toContain("shutting down signal=SIGTERM");
  });

  test("serves the web console at / from the files built into it", async () => {
    const server = await spawnServer([], { command: [binary] });
    try {
      const page = await fetch(`${server.url}/`);
      expect(page.headers.get("content-security-policy")).toStartWith("default-src 'self'");
      const html = await page.text();
      expect(html).toContain('<dd data-field="origins">0</dd>');
      const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      expect(assets.length).toBe(3);
      const bodies = await Promise.all(assets.map(async (path) => {
        const res = await fetch(server.url + path);
        expect(res.status).toBe(200);
        return `${res.headers.get("content-type")} ${await res.text()}`;
      }));
      // The page's own script, bundled: it follows the live status.
      expect(bodies.find((b) => b.startsWith("text/javascript"))).toContain("/console/events");
      expect(bodies.some((b) => b.startsWith("text/css"))).toBe(true);
    } finally {
      expect(await server.stop("SIGTERM")).toBe(0);
    }
  });

  test("keeps its pods across a restart on the same data dir", async () => {
    const server = await spawnServer(["--registry", "sqlite", "--data-dir", dataDir], { command: [binary] });
    try {
      const pod = buildPod({ podId: "compiled-pod" });
      const res = await fetch(`${server.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
      expect(res.status).toBe(200);
      const { id } = await res.json();
      expect(await server.stop("SIGTERM")).toBe(0);
      const again = await spawnServer(["--registry", "sqlite", "--data-dir", dataDir], { command: [binary] });
      try {
        expect(new Uint8Array(await (await fetch(`${again.url}/${id}`)).arrayBuffer())).toEqual(pod.bytes);
      } finally {
        expect(await again.stop("SIGTERM")).toBe(0);
      }
    } finally {
      server.proc.kill("SIGKILL");
    }
  });
});

test("bun run release refuses an unknown platform before building anything", () => {
  const p = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../scripts/release.ts"), "--only", "linux-x64,plan9-mips", "--out", dir], { stdout: "pipe", stderr: "pipe" });
  expect(p.exitCode).toBe(2);
  expect(p.stderr.toString()).toContain('unknown platform "plan9-mips"');
});
