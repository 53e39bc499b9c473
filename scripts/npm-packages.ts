// Per-platform npm packages, each holding one compiled executable, for
// `npx gemmapod-signal` without Bun. The main package lists them all as
// optionalDependencies; npm installs only the one whose os/cpu/libc match.
//   bun scripts/npm-packages.ts [--from dist] [--out dist/npm] [--pack]
// reads the executables `bun run release` wrote and writes one package
// directory per platform (and, with --pack, its `npm pack` tarball).
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };
import { artifactName, type ReleasePlatform } from "./release.ts";

const ROOT = join(import.meta.dir, "..");

interface NpmPlatform {
  os: string;
  cpu: string;
  libc?: "glibc" | "musl";
}

/** Release platforms published to npm (the x64 baseline build has no os/cpu of its own). */
export const NPM_PLATFORMS: Partial<Record<ReleasePlatform, NpmPlatform>> = {
  "linux-x64": { os: "linux", cpu: "x64", libc: "glibc" },
  "linux-arm64": { os: "linux", cpu: "arm64", libc: "glibc" },
  "linux-x64-musl": { os: "linux", cpu: "x64", libc: "musl" },
  "linux-arm64-musl": { os: "linux", cpu: "arm64", libc: "musl" },
  "darwin-x64": { os: "darwin", cpu: "x64" },
  "darwin-arm64": { os: "darwin", cpu: "arm64" },
  "windows-x64": { os: "win32", cpu: "x64" },
};

/** `gemmapod-signal-linux-x64`: what bin/gemmapod-signal.js looks for on that machine. */
export const npmPackageName = (platform: ReleasePlatform): string => `gemmapod-signal-${platform}`;

/** The optionalDependencies the main package.json must list, all pinned to its version. */
export function optionalDependencies(version = pkg.version): Record<string, string> {
  return Object.fromEntries(Object.keys(NPM_PLATFORMS).map((p) => [npmPackageName(p as ReleasePlatform), version]));
}

/** Writes `<outDir>/<package name>/` with package.json, bin/ and LICENSE; returns the directory. */
export function writePlatformPackage(options: { platform: ReleasePlatform; executable: string; outDir: string; version?: string }): string {
  const { platform, executable, outDir, version = pkg.version } = options;
  const target = NPM_PLATFORMS[platform];
  if (!target) throw new Error(`${platform} is not published to npm`);
  const name = npmPackageName(platform);
  const dir = join(outDir, name);
  mkdirSync(join(dir, "bin"), { recursive: true });
  const binName = platform.startsWith("windows-") ? "gemmapod-signal.exe" : "gemmapod-signal";
  copyFileSync(executable, join(dir, "bin", binName));
  chmodSync(join(dir, "bin", binName), 0o755);
  copyFileSync(join(ROOT, "LICENSE"), join(dir, "LICENSE"));
  const manifest = {
    name,
    version,
    description: `The gemmapod-signal executable for ${platform}; installed by the gemmapod-signal package.`,
    license: pkg.license,
    os: [target.os],
    cpu: [target.cpu],
    ...(target.libc ? { libc: [target.libc] } : {}),
    files: ["bin", "LICENSE"],
    preferUnplugged: true,
  };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, "README.md"), `# ${name}\n\nThe \`gemmapod-signal\` executable for ${platform}. Install \`gemmapod-signal\` instead; it picks this package on such machines.\n`);
  return dir;
}

/** `npm pack` of a package directory into `destination`; the tarball's path. */
export async function npmPack(dir: string, destination: string): Promise<string> {
  const proc = Bun.spawn(["npm", "pack", "--json", "--pack-destination", destination], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`npm pack in ${dir} failed (${code}): ${err.trim()}`);
  return join(destination, (JSON.parse(out) as { filename: string }[])[0]!.filename);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { from: { type: "string" }, out: { type: "string" }, pack: { type: "boolean" } } });
  const from = values.from ?? join(ROOT, "dist");
  const out = values.out ?? join(from, "npm");
  let missing = 0;
  for (const platform of Object.keys(NPM_PLATFORMS) as ReleasePlatform[]) {
    const executable = join(from, artifactName(pkg.version, platform));
    if (!existsSync(executable)) {
      console.error(`npm-packages: missing ${executable} (run bun run release first)`);
      missing++;
      continue;
    }
    const dir = writePlatformPackage({ platform, executable, outDir: out });
    console.log(values.pack ? `packed ${await npmPack(dir, out)}` : `wrote ${dir}`);
  }
  if (missing > 0) process.exit(1);
}
