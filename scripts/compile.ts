// Builds a standalone executable of the server for this machine:
//   bun run compile [--outfile dist/gemmapod-signal]
import { join } from "node:path";

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
  if (code !== 0) throw new Error(`bun build --compile failed (${code}): ${stderr.trim()}`);
}

if (import.meta.main) {
  const i = process.argv.indexOf("--outfile");
  const outfile = i === -1 ? join(ROOT, "dist/gemmapod-signal") : process.argv[i + 1]!;
  await compile({ outfile });
  console.log(`wrote ${outfile}`);
}
