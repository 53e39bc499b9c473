import { ROOT } from "./servers.ts";

/** The commit a run measured: the short hash, `+dirty` when tracked files were changed. */
export function commit(): string {
  const git = (...args: string[]) => Bun.spawnSync(["git", ...args], { cwd: ROOT, stdout: "pipe", stderr: "ignore" }).stdout.toString().trim();
  const head = git("rev-parse", "--short", "HEAD") || "unknown";
  return git("status", "--porcelain", "--untracked-files=no") ? `${head}+dirty` : head;
}
