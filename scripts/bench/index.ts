// `bun run bench`: the benchmark suite of our server against the reference
// @gemmapod/signal and a bare Bun relay. See USAGE in options.ts and
// docs/benchmarks.md.
import { cpus, release, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { clusterSuite } from "./cluster-suite.ts";
import { busySuite } from "./busy-suite.ts";
import { coldstartSuite } from "./coldstart-suite.ts";
import { connectionsSuite } from "./connections-suite.ts";
import { FigureSet, type SuiteName } from "./figures.ts";
import { referenceRuntime } from "./node-runtime.ts";
import { parseBenchArgs, USAGE } from "./options.ts";
import { peerjsSuite } from "./peerjs-suite.ts";
import { peersSuite } from "./peers-suite.ts";
import { killChildrenOnExit } from "./processes.ts";
import { registrySuite } from "./registry-suite.ts";
import { relaySuite } from "./relay-suite.ts";
import { consoleTable, markdownSection, updateDocs, writeJson, type RunMeta } from "./report.ts";
import { ROOT, serverSpecs } from "./servers.ts";
import type { SuiteContext } from "./suite.ts";
import { trackerSuite } from "./tracker-suite.ts";
import { tunnelSuite } from "./tunnel-suite.ts";
import { wanSuite } from "./wan-suite.ts";
import { ywebrtcSuite } from "./ywebrtc-suite.ts";
import { soakSuite } from "./soak-suite.ts";
import { commit } from "./git-commit.ts";

const RUNNERS: Record<SuiteName, (ctx: SuiteContext) => Promise<void>> = {
  relay: relaySuite,
  busy: busySuite,
  connections: connectionsSuite,
  registry: registrySuite,
  coldstart: coldstartSuite,
  cluster: clusterSuite,
  tunnel: tunnelSuite,
  wan: wanSuite,
  peers: peersSuite,
  peerjs: peerjsSuite,
  tracker: trackerSuite,
  ywebrtc: ywebrtcSuite,
  soak: soakSuite,
};

/** Runs per figure unless --reps says otherwise: more where the figures are noisier and runs cheap. */
const DEFAULT_REPS: Record<SuiteName, number> = { relay: 5, busy: 3, connections: 3, registry: 3, coldstart: 7, cluster: 3, tunnel: 3, wan: 3, peers: 5, peerjs: 3, tracker: 3, ywebrtc: 3, soak: 1 };

/** Nothing the suite does should take this long; if it does, stop rather than hang. */
const OVERALL_LIMIT_MS = 30 * 60 * 1000;

async function main(): Promise<void> {
  let options;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    process.exit(2);
  }
  if (options === "help") return console.log(USAGE);
  killChildrenOnExit();
  setTimeout(() => {
    console.error(`bench: still running after ${OVERALL_LIMIT_MS / 60000} minutes; giving up`);
    process.exit(3);
  }, OVERALL_LIMIT_MS).unref();

  const outDir = join(ROOT, "bench-results");
  const runtime = referenceRuntime({ cacheDir: join(ROOT, ".cache", "bench-node"), allowInstall: options.installNode });
  const specs = serverSpecs(runtime).filter((s) => options.servers.includes(s.name));
  // Shared by all suites (notes, figures, details accumulate); reps is set per suite.
  const ctx: Omit<SuiteContext, "reps"> = {
    specs,
    quick: options.quick,
    seconds: options.seconds,
    sockets: options.sockets,
    // A soak run on its own writes its table unless --no-docs (a shortened run says so in it).
    soak: { seconds: options.soakSeconds, docs: options.docs || (options.suites.length === 1 && !process.argv.includes("--no-docs")) },
    outDir,
    figures: new FigureSet(),
    notes: [],
    details: {},
  };
  if (runtime.note) ctx.notes.push(runtime.note);
  if (options.servers.includes("ours") && !specs.some((s) => s.name === "ours")) ctx.notes.push("ours: src/cli.ts does not exist yet, so only the others ran");
  if (options.quick) ctx.notes.push("--quick run: short phases and one rep; a smoke test, not a result");

  const started = performance.now();
  for (const suite of options.suites) {
    const t = performance.now();
    console.error(`bench: ${suite} ...`);
    await RUNNERS[suite]({ ...ctx, reps: options.reps ?? DEFAULT_REPS[suite] });
    console.error(`bench: ${suite} done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }

  const figures = ctx.figures.figures();
  const meta: RunMeta = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    commit: commit(),
    command: ["bun run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}`,
    servers: specs.map((s) => `${s.name}: ${s.label}`),
    options: { ...options, durationSeconds: Math.round((performance.now() - started) / 1000) },
  };
  console.log(`\n${meta.command}  (${meta.date}, ${meta.commit})`);
  for (const s of meta.servers) console.log(`  ${s}`);
  console.log(consoleTable(figures));
  if (ctx.notes.length) console.log(`\nNotes:\n${ctx.notes.map((n) => `  - ${n}`).join("\n")}`);

  const jsonPath = resolve(ROOT, options.json);
  writeJson(jsonPath, { meta, figures, notes: ctx.notes, details: ctx.details });
  console.log(`\nwrote ${options.json}`);
  if (options.docs) {
    updateDocs(join(ROOT, "docs/benchmarks.md"), markdownSection(figures, meta, ctx.notes));
    console.log("wrote docs/benchmarks.md");
  }
  process.exit(0);
}

await main();
