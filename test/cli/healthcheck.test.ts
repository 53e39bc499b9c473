import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { parseArgs } from "../../src/config.ts";
import { probeHealth } from "../../src/healthcheck.ts";
import { CLI, runCommand } from "../helpers/cli.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const healthcheck = (args: string[], env: Record<string, string> = {}) => runCommand([process.execPath, CLI, "healthcheck", ...args], { env });

let srv: TestServer;
// Stands in for a server that is up but not well, or not ours.
let impostor: Server<undefined>;
beforeAll(() => {
  srv = startServer();
  impostor = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/sick/health") return Response.json({ ok: false });
      if (path === "/html/health") return new Response("<html>ok</html>");
      if (path === "/hang/health") return new Promise<Response>(() => {});
      return Response.json({ error: "down" }, { status: 503 });
    },
  });
});
afterAll(async () => {
  await srv.close();
  await impostor.stop(true);
});

describe("gemmapod-signal healthcheck", () => {
  test("exits 0 for a live server given by --url", async () => {
    expect(await healthcheck(["--url", srv.url])).toMatchObject({ code: 0, out: `healthy: ${srv.url}/health\n` });
  });

  test("by default probes where PORT/HOST (or --port/--hostname) make the server listen", async () => {
    const { port } = srv.server;
    expect((await healthcheck([], { PORT: String(port), HOST: "0.0.0.0" })).code).toBe(0);
    expect((await healthcheck(["--port", String(port), "--hostname", "127.0.0.1"])).code).toBe(0);
    expect(parseArgs(["healthcheck"], {})).toEqual({ kind: "healthcheck", url: "http://127.0.0.1:8080/health" });
    expect(parseArgs(["healthcheck", "--hostname", "::1", "--port=9"], {})).toEqual({ kind: "healthcheck", url: "http://[::1]:9/health" });
  });

  test.each([
    ["503", "/down", "answered 503"],
    ["ok:false", "/sick", 'did not answer {"ok": true}'],
    ["not JSON", "/html", 'did not answer {"ok": true}'],
  ])("exits 1 when /health is %s", async (_, path, reason) => {
    const { code, err } = await healthcheck(["--url", `${impostor.url.href.replace(/\/$/, "")}${path}`]);
    expect(code).toBe(1);
    expect(err).toContain(reason);
  });

  test("exits 1 when nothing listens", async () => {
    const gone = startServer();
    const url = gone.url;
    await gone.close();
    const { code, err } = await healthcheck(["--url", url]);
    expect(code).toBe(1);
    expect(err).toStartWith(`unhealthy: ${url}/health`);
  });

  test("gives up on a server that never answers", async () => {
    const started = performance.now();
    const result = await probeHealth(`${impostor.url.href}hang/health`, 200);
    expect(result.healthy).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("a bad --url or a server-only typo exits 2", async () => {
    expect(await healthcheck(["--url", "ftp://x"])).toMatchObject({ code: 2 });
    expect(await healthcheck(["--url"])).toMatchObject({ code: 2 });
    expect((await healthcheck(["--bogus"])).err).toContain('unknown option "--bogus"');
    // --url only means something to healthcheck.
    expect(() => parseArgs(["--url", "http://x"], {})).toThrow('unknown option "--url"');
  });
});
