// Flags whose effect only shows over time, checked end to end: the real server
// process started with the flag, and the effect watched from outside. (Unit tests of
// the janitor or the exchange cannot see a flag that never reaches them.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startTunnel, type TunnelClient } from "../../src/tunnel/client.ts";
import { spawnServer, type RunningCli } from "../helpers/cli.ts";
import { buildPod } from "../helpers/pods.ts";
import { randomBytes } from "../helpers/random-body.ts";
import { tempDir } from "../helpers/server.ts";
import { newKey, uniqueName } from "../tunnel/harness.ts";

const POD_TTL_S = 5;
const IDLE_S = 2;

let server: RunningCli;
let dataDir: string;
beforeAll(async () => {
  dataDir = tempDir();
  server = await spawnServer(["--registry", "sqlite", "--data-dir", dataDir, "--pod-ttl", `${POD_TTL_S}s`, "--tunnel-idle-timeout", `${IDLE_S}s`]);
});
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("--pod-ttl", () => {
  test("a pod nobody fetches is gone after the TTL; one fetched all along stays", async () => {
    const pod = buildPod({ podId: "wired-ttl" });
    const publish = async () => (await (await fetch(`${server.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } })).json()).id as string;
    const [stale, fresh] = [await publish(), await publish()];
    // The janitor looks every max(10 s, TTL / 10): the stale pod goes at its first look.
    // HEAD is not a fetch (it bumps no hit), so watching does not keep the stale pod alive;
    // the fresh pod is fetched every 500 ms, ten times within its TTL.
    const deadline = Date.now() + 30_000;
    let staleStatus = 200;
    while (staleStatus === 200 && Date.now() < deadline) {
      const got = await fetch(`${server.url}/${fresh}`, { headers: { "Accept-Encoding": "identity" } });
      await got.arrayBuffer();
      expect(got.status).toBe(200);
      await Bun.sleep(500);
      staleStatus = (await fetch(`${server.url}/${stale}`, { method: "HEAD" })).status;
    }
    expect(staleStatus).toBe(410);
    expect((await fetch(`${server.url}/${fresh}`)).status).toBe(200);
  }, 45_000);
});

describe("--tunnel-idle-timeout", () => {
  let local: ReturnType<typeof Bun.serve>;
  let client: TunnelClient;
  let base: string;
  beforeAll(async () => {
    local = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 0,
      fetch(req) {
        const { pathname } = new URL(req.url);
        if (pathname === "/stall") {
          // One piece, then nothing, the stream left open: only the broker's idle timeout ends it.
          return new Response(new ReadableStream({ start: (c) => c.enqueue(randomBytes(1000)) }));
        }
        // A body that keeps moving: a piece every 250 ms for 3 s, longer than the idle timeout in all.
        let n = 12;
        return new Response(new ReadableStream({ pull: async (c) => (n-- > 0 ? (await Bun.sleep(250), c.enqueue(randomBytes(100))) : c.close()) }));
      },
    });
    const name = uniqueName("idle");
    client = startTunnel({ server: server.url, name, to: `http://127.0.0.1:${local.port}`, key: await newKey() });
    await client.ready;
    base = `${server.url}/tunnel/${name}`;
  });
  afterAll(() => {
    client?.close();
    local?.stop(true);
  });

  test("a tunnelled body with nothing moving is cut after the timeout", async () => {
    const res = await fetch(`${base}/stall`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect((await reader.read()).value?.byteLength).toBe(1000);
    const t0 = performance.now();
    // Cut by the broker: the read fails. Well within this test's 30 s, and not at the first pause.
    const cut = await Promise.race([reader.read().then(() => "ended", () => "cut"), Bun.sleep(20_000).then(() => "still open after 20 s")]);
    expect(cut).toBe("cut");
    expect(performance.now() - t0).toBeGreaterThan(IDLE_S * 1000 / 2);
  });

  test("a body that keeps moving, more slowly than the timeout in all, is served whole", async () => {
    const res = await fetch(`${base}/ticks`);
    expect((await res.arrayBuffer()).byteLength).toBe(1200);
  });
});
