// Cold start: from spawning the process to its first answer on /health, for
// `bun src/cli.ts` and for the compiled binary (reference and bare alongside).
import { existsSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { compile } from "../compile.ts";
import { spawnTracked, stopProcess } from "./processes.ts";
import { freePort, HOST, oursCommand, ROOT, type ServerName, type ServerSpec } from "./servers.ts";
import { forEachRun, type SuiteContext } from "./suite.ts";

const POLL_MS = 1;
const LIMIT_MS = 15_000;

/** Milliseconds from spawn to the first 200 from /health. */
async function timeToHealth(spec: ServerSpec): Promise<number> {
  const port = freePort();
  const health = `http://${HOST}:${port}/health`;
  const start = performance.now();
  const proc = spawnTracked(spec.command(port), { stdout: "ignore", stderr: "ignore" });
  try {
    while (performance.now() - start < LIMIT_MS) {
      const ok = await fetch(health).then((r) => r.ok, () => false);
      if (ok) return performance.now() - start;
      if (proc.exitCode !== null) break;
      await Bun.sleep(POLL_MS);
    }
    throw new Error(`${spec.label} did not answer ${health} within ${LIMIT_MS} ms (exit ${proc.exitCode})`);
  } finally {
    await stopProcess(proc);
  }
}

export async function coldstartSuite(ctx: SuiteContext): Promise<void> {
  const ours = ctx.specs.find((s) => s.name === "ours");
  const binary = join(ctx.outDir, "bin", "gemmapod-signal");
  let compiled: ServerSpec | undefined;
  if (ours) {
    mkdirSync(join(ctx.outDir, "bin"), { recursive: true });
    const started = performance.now();
    await compile({ outfile: binary });
    if (!existsSync(binary)) throw new Error(`bun build --compile wrote no ${binary}`);
    ctx.notes.push(`coldstart: compiled ${relative(ROOT, binary)} with \`bun run compile\`'s settings in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    compiled = { ...ours, label: "ours (compiled binary)", command: oursCommand([binary]) };
  }
  const f = ctx.figures;
  const script = f.define({ id: "coldstart.script", suite: "coldstart", label: "start to first /health, bun src/cli.ts", unit: "ms", better: "lower", digits: 0 });
  const binaryId = f.define({ id: "coldstart.compiled", suite: "coldstart", label: "start to first /health, compiled binary", unit: "ms", better: "lower", digits: 0 });
  const runs: { variant: string; rep: number; ms: number }[] = [];

  // Each row compares one way of starting ours with the same reference and bare samples.
  const variants: { spec: ServerSpec; rows: string[]; as: ServerName }[] = ctx.specs.map((spec) => ({
    spec,
    rows: spec.name === "ours" ? [script] : [script, binaryId],
    as: spec.name,
  }));
  if (compiled) variants.push({ spec: compiled, rows: [binaryId], as: "ours" });

  await forEachRun(
    ctx,
    variants.map((v) => v.spec),
    async (spec, rep) => {
      const variant = variants.find((v) => v.spec === spec)!;
      const ms = await timeToHealth(spec);
      runs.push({ variant: spec.label, rep, ms });
      for (const row of variant.rows) f.add(row, variant.as, ms);
    },
  );
  ctx.details.coldstart = { pollMs: POLL_MS, runs };
}
