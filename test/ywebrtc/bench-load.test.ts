// The y-webrtc bench's instruments in a tiny form, so they cannot rot: its load
// generator counts every delivery once against our server, the bare floor and
// (with Node) the reference y-webrtc server. No timing here.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runYLoad } from "../../scripts/bench/ywebrtc-load.ts";
import { startYBare } from "../../scripts/bench/ywebrtc-bare.ts";
import { startServer } from "../helpers/server.ts";
import { yUrl } from "../helpers/ywebrtc.ts";

const ours = startServer({ wsConnectRate: 1_000_000 });
const bare = startYBare({ port: 0, hostname: "127.0.0.1" });
afterAll(async () => {
  bare.stop(true);
  await ours.close();
});

const tiny = { rooms: 2, peers: 3, rate: 20, warmupSeconds: 0.1, seconds: 0.3 };

for (const [name, url] of [
  ["our server (default y-webrtc limits)", () => yUrl(ours.url)],
  ["the bare floor", () => `ws://127.0.0.1:${bare.port}/y-webrtc`],
] as const) {
  test(`against ${name}: every publish is delivered to each peer of its room, once`, async () => {
    const r = await runYLoad({ url: url(), ...tiny, serverPid: process.pid });
    expect([r.missing, r.errors]).toEqual([0, 0]);
    expect(r.published).toBeGreaterThan(0);
    expect(r.delivered).toBeGreaterThanOrEqual(r.published * tiny.peers - tiny.rooms * tiny.peers * tiny.peers); // the few in flight at the window's start count too
    expect(r.serverCpuMs).toBeNumber();
  });
}

const node = Bun.which("node");
test.skipIf(!node)("against the reference y-webrtc server on Node: the same", async () => {
  const port = 20_000 + Math.floor(Math.random() * 30_000);
  const proc = Bun.spawn([node!, join(import.meta.dir, "../../node_modules/y-webrtc/bin/server.js")], { env: { ...process.env, PORT: String(port) }, stdout: "ignore", stderr: "ignore" });
  try {
    for (let i = 0; i < 200 && !(await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)); i++) await Bun.sleep(25);
    const r = await runYLoad({ url: `ws://127.0.0.1:${port}/`, ...tiny, serverPid: proc.pid });
    expect([r.missing, r.errors]).toEqual([0, 0]);
    expect(r.published).toBeGreaterThan(0);
  } finally {
    proc.kill();
    await proc.exited;
  }
});
