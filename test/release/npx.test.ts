// `npx gemmapod-signal` for someone with Node and no Bun: the main package and
// this machine's platform package, packed by `npm pack`, installed by npm
// offline into an empty project, run with a PATH that has node but no bun.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { compile } from "../../scripts/compile.ts";
import { npmPack, npmPackageName, optionalDependencies, writePlatformPackage } from "../../scripts/npm-packages.ts";
import { hostPlatform } from "../../scripts/release.ts";
import { runCommand } from "../helpers/cli.ts";
import { tempDir } from "../helpers/server.ts";

const ROOT = join(import.meta.dir, "../..");
/** Each npx start costs npm a few seconds on a busy 2-core box. */
const SLOW = 30_000;
const dir = tempDir("gemmapod-npx-");
const project = join(dir, "project");
const nodeOnly = join(dir, "node-only-bin");
/** node, npm, npx and sh, and nothing else: no bun anywhere on this PATH. */
const env = { PATH: nodeOnly, HOME: process.env.HOME ?? dir, npm_config_update_notifier: "false" };

async function exec(command: string[], cwd: string, extraEnv: Record<string, string> = {}) {
  const result = await runCommand(command, { cwd, env: extraEnv });
  if (result.code !== 0) throw new Error(`${command.join(" ")} exited ${result.code}: ${result.err}`);
  return result;
}

beforeAll(async () => {
  const platform = hostPlatform();
  if (!platform) throw new Error(`no release platform for ${process.platform}-${process.arch}`);
  const executable = join(dir, "gemmapod-signal");
  await compile({ outfile: executable });
  // Offline: the runtime dependencies come as tarballs too (packed from this checkout's node_modules).
  const [platformTarball, mainTarball, ...deps] = await Promise.all([
    npmPack(writePlatformPackage({ platform, executable, outDir: join(dir, "packages") }), dir),
    npmPack(ROOT, dir),
    ...Object.keys(pkg.dependencies).map((name) => npmPack(join(ROOT, "node_modules", name), dir)),
  ]);
  mkdirSync(nodeOnly);
  for (const tool of ["node", "npm", "npx", "sh"]) symlinkSync(realpathSync(Bun.which(tool)!), join(nodeOnly, tool));
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "empty-project", private: true }));
  await exec(["npm", "install", "--offline", "--no-audit", "--no-fund", mainTarball, platformTarball, ...deps], project, env);
  // About 30 s on an idle 2-core box, nearly all of it npm packing and unpacking the 100 MB executable.
}, 240_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts a command in its own process group, as a terminal or supervisor would, and collects its output. */
function start(command: string[]) {
  const child = spawn(command[0]!, command.slice(1), { cwd: project, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const url = (async () => {
    for (let i = 0; i < 300; i++) {
      const found = /locally: (http:\/\/[^\s;]+)/.exec(output)?.[1];
      if (found) return found;
      await Bun.sleep(20);
    }
    throw new Error(`did not start: ${output}`);
  })();
  return { child, exited, url, output: () => output };
}

describe("npx gemmapod-signal without Bun", () => {
  test("the PATH really has no bun, and the platform package is the one npm installed", async () => {
    expect(Bun.which("bun", { PATH: nodeOnly })).toBeNull();
    expect(Bun.which("node", { PATH: nodeOnly })).not.toBeNull();
    const installed = await Bun.file(join(project, "node_modules", npmPackageName(hostPlatform()!), "package.json")).json();
    expect(installed).toMatchObject({ version: pkg.version, os: [process.platform], cpu: [process.arch] });
    expect(pkg.optionalDependencies).toEqual(optionalDependencies(pkg.version));
  }, SLOW);

  test("npx gemmapod-signal --version prints the package version", async () => {
    expect(await exec(["npx", "--offline", "gemmapod-signal", "--version"], project, env)).toMatchObject({ out: `${pkg.version}\n` });
  }, SLOW);

  test("npx gemmapod-signal starts, answers /health, and stops when its process group gets SIGTERM", async () => {
    const server = start(["npx", "--offline", "gemmapod-signal", "--port", "0", "--hostname", "127.0.0.1"]);
    const url = await server.url;
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ ok: true, origins: [], sessions: 0, registry: "memory", damagedPods: 0, storesAway: [], warnings: [] });
    expect(await exec(["npx", "--offline", "gemmapod-signal", "healthcheck", "--url", url], project, env)).toMatchObject({ out: `healthy: ${url}/health\n` });
    process.kill(-server.child.pid!, "SIGTERM");
    await server.exited;
    await Bun.sleep(100);
    expect(server.output()).toContain("shutting down signal=SIGTERM");
    expect(await fetch(`${url}/health`).then(() => "still up", () => "down")).toBe("down");
  }, SLOW);

  test("the launcher passes SIGTERM on to the executable and exits with its status", async () => {
    const server = start(["node", join(project, "node_modules/.bin/gemmapod-signal"), "--port", "0", "--hostname", "127.0.0.1"]);
    const url = await server.url;
    expect((await fetch(`${url}/health`)).status).toBe(200);
    server.child.kill("SIGTERM"); // the launcher alone, not its group
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toContain("shutting down signal=SIGTERM");
  }, SLOW);

  test("with neither the platform package nor Bun it says what to do", async () => {
    const bare = join(dir, "bare");
    mkdirSync(join(bare, "node_modules"), { recursive: true });
    await exec(["cp", "-r", join(project, "node_modules/gemmapod-signal"), join(bare, "node_modules/")], dir);
    const result = await runCommand(["node", join(bare, "node_modules/gemmapod-signal/bin/gemmapod-signal.js"), "--version"], { env });
    expect(result.code).toBe(1);
    expect(result.err).toContain(`no executable for ${process.platform}-${process.arch}`);
    expect(result.err).toContain("install Bun");
  }, SLOW);
});
