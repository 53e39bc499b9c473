// Builds a standalone executable of the server:
//   bun run compile [--outfile dist/gemmapod-signal] [--target bun-linux-arm64]
// Without --target it is for this machine; with one, Bun fetches that
// platform's runtime from the npm registry (@oven/bun-*) the first time.
import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = join(import.meta.dir, "..");

export interface CompileOptions {
  outfile: string;
  /** A `bun build --target`, e.g. bun-linux-arm64; defaults to this machine. */
  target?: string;
}

export async function compile({ outfile, target }: CompileOptions): Promise<void> {
  const args = ["build", "--compile", "--minify", join(ROOT, "src/cli.ts"), "--outfile", outfile];
  if (target) args.push(`--target=${target}`);
  const proc = Bun.spawn([process.execPath, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`bun build --compile${target ? ` --target=${target}` : ""} failed (${code}): ${stderr.trim()}`);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outfile: { type: "string" }, target: { type: "string" } } });
  const outfile = values.outfile ?? join(ROOT, "dist/gemmapod-signal");
  await compile({ outfile, target: values.target });
  console.log(`wrote ${outfile}`);
}
