// The reference server is a Node program (engines: node >= 22). This finds a
// Node 22+ to run it on: $BENCH_NODE, the `node` on PATH, or the official
// binary that npm ships as the `node-<platform>-<arch>` package, installed into
// a cache directory by bun. Without one the reference runs on Bun, and says so.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface JsRuntime {
  kind: "node" | "bun";
  path: string;
  version: string;
  /** Why this runtime, when it is not the one asked for. */
  note?: string;
}

const MIN_NODE_MAJOR = 22;

function versionOf(path: string): string | undefined {
  try {
    const run = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "ignore" });
    return run.exitCode === 0 ? run.stdout.toString().trim() : undefined;
  } catch {
    return undefined;
  }
}

function usableNode(path: string | undefined): JsRuntime | undefined {
  if (!path) return undefined;
  const version = versionOf(path);
  const major = Number(/^v(\d+)\./.exec(version ?? "")?.[1]);
  return major >= MIN_NODE_MAJOR ? { kind: "node", path, version: version! } : undefined;
}

/** Installs the node-<platform>-<arch>@22 npm package into `cacheDir` (one bun install, bounded in time). */
function installNodeFromNpm(cacheDir: string): string | undefined {
  const pkg = `node-${process.platform}-${process.arch}`;
  const binary = join(cacheDir, "node_modules", pkg, "bin", "node");
  if (existsSync(binary)) return binary;
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(join(cacheDir, "package.json"), JSON.stringify({ private: true, dependencies: { [pkg]: `^${MIN_NODE_MAJOR}` } }));
  const run = Bun.spawnSync([process.execPath, "install", "--no-summary"], { cwd: cacheDir, stdout: "ignore", stderr: "pipe", timeout: 300_000 });
  if (run.exitCode !== 0) console.error(`bench: could not install ${pkg} from npm: ${run.stderr.toString().trim().slice(-500)}`);
  return existsSync(binary) ? binary : undefined;
}

export function referenceRuntime(options: { cacheDir: string; allowInstall: boolean }): JsRuntime {
  const fromPath = Bun.which("node") ?? undefined;
  const found =
    usableNode(process.env.BENCH_NODE) ??
    usableNode(fromPath) ??
    (options.allowInstall ? usableNode(installNodeFromNpm(options.cacheDir)) : undefined);
  if (found) return found;
  return {
    kind: "bun",
    path: process.execPath,
    version: `bun ${Bun.version}`,
    note: `no Node >= ${MIN_NODE_MAJOR} (PATH has ${fromPath ? versionOf(fromPath) : "none"}): the reference ran on Bun`,
  };
}
