// What every suite gets: the servers, the run's knobs, and where to put results.
import type { FigureSet } from "./figures.ts";
import type { ServerSpec } from "./servers.ts";

export interface SuiteContext {
  specs: ServerSpec[];
  reps: number;
  quick: boolean;
  /** Length of each timed load phase. */
  seconds: number;
  /** Idle origin sockets at the top of the connections ramp. */
  sockets: number;
  /** Length of the chaos soak, and whether its table goes into docs/cluster.md. */
  soak: { seconds: number; docs: boolean };
  /** bench-results/: logs, the compiled binary, the pod fixture. */
  outDir: string;
  figures: FigureSet;
  /** Things the reader of the table must know (fallbacks, failures, limits). */
  notes: string[];
  /** Per-suite raw data for the JSON file. */
  details: Record<string, unknown>;
}

/** Each rep starts every server afresh, in turn, so slow drift of a noisy box spreads evenly over them. */
export async function forEachRun(ctx: SuiteContext, specs: ServerSpec[], run: (spec: ServerSpec, rep: number) => Promise<void>): Promise<void> {
  for (let rep = 1; rep <= ctx.reps; rep++) {
    for (const spec of specs) {
      process.stderr.write(`  rep ${rep}/${ctx.reps}: ${spec.label}\n`);
      await run(spec, rep);
    }
  }
}
