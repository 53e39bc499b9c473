// `bun run bench -- --only soak`: the chaos soak of a three-node cluster (see soak/run-soak.ts).
// Not a comparison with the reference: its own table, written into docs/cluster.md.
import { join } from "node:path";
import { commit } from "./git-commit.ts";
import { updateDocs } from "./report.ts";
import { ROOT } from "./servers.ts";
import { runSoak } from "./soak/run-soak.ts";
import { soakMarkdown, soakPassed } from "./soak/soak-report.ts";
import type { SuiteContext } from "./suite.ts";

const MARKERS = { begin: "<!-- soak:latest:begin (written by `bun run bench -- --only soak`) -->", end: "<!-- soak:latest:end -->" };

export async function soakSuite(ctx: SuiteContext): Promise<void> {
  const { seconds, docs } = ctx.soak;
  const report = await runSoak({ seconds, onProgress: (line) => console.error(`  ${line}`) });
  if (!report) return void ctx.notes.push("soak: skipped, install postgresql and s3rver (see test/helpers/services.ts)");
  const args = process.argv.slice(2);
  const table = soakMarkdown(report, { commit: commit(), date: new Date().toISOString().replace(/\.\d+Z$/, "Z"), command: `bun run bench -- ${args.join(" ")}` });
  console.log(`\n${table}\n`);
  ctx.details.soak = report;
  if (!soakPassed(report)) ctx.notes.push("soak: FAILED: operations failed outside every fault window, went unanswered, or pods were lost (see the table)");
  if (docs) {
    updateDocs(join(ROOT, "docs/cluster.md"), table, MARKERS);
    console.log("wrote docs/cluster.md");
  }
}
