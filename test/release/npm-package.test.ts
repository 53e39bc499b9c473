// `bunx gemmapod-signal` as a user gets it: the tarball `npm pack` makes,
// installed into an empty project with nothing from this checkout around it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { runCommand, spawnServer } from "../helpers/cli.ts";
import { tempDir } from "../helpers/server.ts";

const ROOT = join(import.meta.dir, "../..");
const dir = tempDir("gemmapod-npm-");
const project = join(dir, "project");
// --no-install: a missing bin must fail here, never quietly run whatever the registry has.
const BUNX = [process.execPath, "x", "--no-install", "gemmapod-signal"];

async function exec(command: string[], cwd: string) {
  const result = await runCommand(command, { cwd });
  if (result.code !== 0) throw new Error(`${command.join(" ")} exited ${result.code}: ${result.err}`);
  return result;
}

let packed: { filename: string; files: { path: string }[] };

beforeAll(async () => {
  const { out } = await exec(["npm", "pack", "--json", "--pack-destination", dir], ROOT);
  [packed] = JSON.parse(out);
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "empty-project", private: true }));
  // The tarball's dependencies come from the registry (or Bun's cache), as for a user.
  await exec([process.execPath, "add", join(dir, packed.filename)], project);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm package", () => {
  test("contains the launcher, the sources, README and package.json only", async () => {
    const files = packed.files.map((f) => f.path).sort();
    // The console's page, stylesheet and icon are built from source when run by bunx.
    const sources = (await Array.fromAsync(new Bun.Glob("src/**/*.{ts,html,css,svg}").scan({ cwd: ROOT }))).sort();
    const license = existsSync(join(ROOT, "LICENSE")) ? ["LICENSE"] : []; // npm always adds it
    expect(files).toEqual(["README.md", "package.json", "bin/gemmapod-signal.js", ...license, ...sources].sort());
    expect(files).toContain(pkg.bin["gemmapod-signal"]);
    expect(files.filter((f) => /(^|\/)(test|dist|scripts)\/|\.test\.ts$|\.sqlite/.test(f))).toEqual([]);
  });

  test("installs into an empty project with only its runtime dependencies", async () => {
    const installed = await Bun.file(join(project, "node_modules/gemmapod-signal/package.json")).json();
    expect(installed.version).toBe(pkg.version);
    for (const dep of Object.keys(pkg.dependencies)) expect(await Bun.file(join(project, "node_modules", dep, "package.json")).exists()).toBe(true);
    for (const dev of Object.keys(pkg.devDependencies)) expect(await Bun.file(join(project, "node_modules", dev, "package.json")).exists()).toBe(false);
  });

  test("bunx gemmapod-signal --version prints the package version", async () => {
    expect(await exec([...BUNX, "--version"], project)).toMatchObject({ out: `${pkg.version}\n` });
  });

  test("bunx gemmapod-signal starts, answers /health and the console, and stops on SIGTERM", async () => {
    const server = await spawnServer([], { command: BUNX, cwd: project });
    try {
      expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true, origins: [], sessions: 0, registry: "memory", damagedPods: 0, storesAway: [], warnings: [] });
      expect(await exec([...BUNX, "healthcheck", "--url", server.url], project)).toMatchObject({ out: `healthy: ${server.url}/health\n` });
      const page = await (await fetch(`${server.url}/`)).text();
      expect(page).toContain('<dd data-field="origins">0</dd>');
      const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page)![1]!;
      expect(await (await fetch(server.url + script)).text()).toContain("/console/events");
    } finally {
      expect(await server.stop("SIGTERM")).toBe(0);
    }
  });
});
