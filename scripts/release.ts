// Builds the executables we publish, one per platform, plus a SHA256SUMS file:
//   bun run release [--out dist] [--only linux-x64,darwin-arm64]
// Each is named gemmapod-signal-<version>-<platform>[.exe]. Other platforms'
// Bun runtimes come from the npm registry (@oven/bun-*), fetched by `bun build`.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };
import { compile } from "./compile.ts";

/** Each is also a `bun build --target` once prefixed with `bun-`. */
export const RELEASE_PLATFORMS = [
  "linux-x64",
  "linux-x64-baseline",
  "linux-arm64",
  "linux-x64-musl",
  "linux-arm64-musl",
  "darwin-x64",
  "darwin-arm64",
  "windows-x64",
] as const;

export type ReleasePlatform = (typeof RELEASE_PLATFORMS)[number];

export interface ReleaseOptions {
  outDir: string;
  platforms?: readonly ReleasePlatform[];
  version?: string;
  log?: (line: string) => void;
}

export interface ReleaseResult {
  /** Absolute paths of the executables built. */
  built: string[];
  failed: { platform: ReleasePlatform; error: string }[];
  checksums: string;
}

export function artifactName(version: string, platform: ReleasePlatform): string {
  return `gemmapod-signal-${version}-${platform}${platform.startsWith("windows-") ? ".exe" : ""}`;
}

/** The release platform this process runs on, if it is one (x64 Linux → linux-x64). */
export function hostPlatform(): ReleasePlatform | undefined {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return RELEASE_PLATFORMS.find((p) => p === `${os}-${process.arch}`);
}

export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/**
 * Builds one platform at a time (two cores; compiles in parallel only fight),
 * keeps going past a failure so one report names every platform that failed,
 * and writes SHA256SUMS for what was built, in `sha256sum -c` format.
 */
export async function release(options: ReleaseOptions): Promise<ReleaseResult> {
  const { outDir, platforms = RELEASE_PLATFORMS, version = pkg.version, log = () => {} } = options;
  mkdirSync(outDir, { recursive: true });
  const result: ReleaseResult = { built: [], failed: [], checksums: "" };
  for (const platform of platforms) {
    const outfile = join(outDir, artifactName(version, platform));
    const started = performance.now();
    try {
      await compile({ outfile, target: `bun-${platform}` });
      if (platform === hostPlatform()) await expectVersion(outfile, version);
      result.built.push(outfile);
      log(`built ${basename(outfile)} in ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      result.failed.push({ platform, error: (error as Error).message });
      log(`FAILED ${platform}: ${(error as Error).message}`);
    }
  }
  for (const file of result.built) result.checksums += `${await sha256File(file)}  ${basename(file)}\n`;
  writeFileSync(join(outDir, "SHA256SUMS"), result.checksums);
  return result;
}

/** The one executable we can run here must report the version in its name. */
async function expectVersion(executable: string, version: string): Promise<void> {
  const run = Bun.spawnSync([executable, "--version"], { stdout: "pipe", stderr: "pipe" });
  const printed = run.stdout.toString().trim();
  if (run.exitCode !== 0 || printed !== version) {
    throw new Error(`${basename(executable)} --version printed ${JSON.stringify(printed)} (exit ${run.exitCode}), expected ${version}`);
  }
}

function parsePlatforms(list: string): ReleasePlatform[] {
  const names = list.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(RELEASE_PLATFORMS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`unknown platform ${JSON.stringify(unknown.join(","))}; choose from ${RELEASE_PLATFORMS.join(", ")}`);
  }
  return names as ReleasePlatform[];
}

if (import.meta.main) {
  let platforms: ReleasePlatform[] | undefined;
  let outDir: string;
  try {
    const { values } = parseArgs({ options: { out: { type: "string" }, only: { type: "string" } } });
    outDir = values.out ?? join(import.meta.dir, "../dist");
    if (values.only !== undefined) platforms = parsePlatforms(values.only);
  } catch (error) {
    console.error(`release: ${(error as Error).message}`);
    process.exit(2);
  }
  const result = await release({ outDir, platforms, log: (line) => console.log(line) });
  console.log(`wrote ${join(outDir, "SHA256SUMS")} (${result.built.length} executables)`);
  if (result.failed.length > 0) {
    console.error(`release: ${result.failed.length} platform(s) failed: ${result.failed.map((f) => f.platform).join(", ")}`);
    process.exit(1);
  }
}
