#!/usr/bin/env node
// `npx gemmapod-signal` / `bunx gemmapod-signal`: runs the compiled executable
// from the platform package npm picked for this machine (an optionalDependency
// selected by os, cpu and libc, as esbuild and Biome do). Without one, runs the
// TypeScript sources with Bun when Bun is at hand. Plain JavaScript for Node.
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

/** musl has its loader at /lib/ld-musl-<arch>.so.1; glibc systems have none. */
function isMusl() {
  try {
    return readdirSync("/lib").some((name) => name.startsWith("ld-musl-"));
  } catch {
    return false;
  }
}

function platformPackage() {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const libc = process.platform === "linux" && isMusl() ? "-musl" : "";
  return `gemmapod-signal-${os}-${process.arch}${libc}`;
}

function installedExecutable(name) {
  try {
    const dir = dirname(require.resolve(`${name}/package.json`));
    const file = join(dir, "bin", process.platform === "win32" ? "gemmapod-signal.exe" : "gemmapod-signal");
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the child in our place: signals go to it, its exit status becomes ours. */
function run(command, commandArgs, onMissing) {
  const child = spawn(command, commandArgs, { stdio: "inherit" });
  const forward = (signal) => () => child.kill(signal);
  const signals = process.platform === "win32" ? ["SIGINT", "SIGTERM"] : ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of signals) process.on(signal, forward(signal));
  child.on("error", (error) => {
    if (error.code === "ENOENT" && onMissing) return onMissing();
    console.error(`gemmapod-signal: could not run ${command}: ${error.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      for (const s of signals) process.removeAllListeners(s);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

const name = platformPackage();
const executable = installedExecutable(name);
const sources = join(here, "..", "src", "cli.ts");
if (executable) {
  run(executable, args);
} else if (process.versions.bun) {
  run(process.execPath, [sources, ...args]);
} else {
  run("bun", [sources, ...args], () => {
    console.error(
      `gemmapod-signal: no executable for ${process.platform}-${process.arch} (package ${name} is not installed) and no Bun to run the sources.\n` +
        "Reinstall without --no-optional / --omit=optional, install Bun (https://bun.sh), or download a binary from the GitHub releases.",
    );
    process.exit(1);
  });
}
