import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { compile } from "../../scripts/compile.ts";
import { spawnServer } from "../helpers/cli.ts";
import { buildPod } from "../helpers/pods.ts";
import { tempDir } from "../helpers/server.ts";

const dir = tempDir("gemmapod-compiled-");
const binary = join(dir, "gemmapod-signal");

beforeAll(async () => {
  await compile({ outfile: binary });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the compiled executable prints its version", () => {
  const run = Bun.spawnSync([binary, "--version"], { stdout: "pipe" });
  expect(run.stdout.toString().trim()).toBe(pkg.version);
});

test("the compiled executable starts, serves /health and accepts a pod", async () => {
  const server = await spawnServer(["--registry", "sqlite", "--data-dir", join(dir, "data")], { command: [binary] });
  try {
    expect(await (await fetch(`${server.url}/health`)).json()).toMatchObject({ ok: true, registry: "sqlite" });
    const pod = buildPod({ podId: "compiled-pod" });
    const res = await fetch(`${server.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
    expect(res.status).toBe(200);
    const { url } = await res.json();
    expect(new Uint8Array(await (await fetch(url)).arrayBuffer())).toEqual(pod.bytes);
  } finally {
    expect(await server.stop()).toBe(0);
  }
});
