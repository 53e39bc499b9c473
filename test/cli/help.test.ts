import { expect, test } from "bun:test";
import { DEFAULT_CONFIG, FLAGS } from "../../src/config.ts";
import { CLI } from "../helpers/cli.ts";

const help = Bun.spawnSync([process.execPath, CLI, "--help"], { stdout: "pipe", stderr: "pipe" }).stdout.toString();
const lines = help.trimEnd().split("\n");

test("--help fits 80 columns", () => {
  const long = lines.filter((line) => line.length > 80);
  expect(long).toEqual([]);
});

test("--help sizes the option column to the longest option and wraps each help text under it", () => {
  const widest = Math.max(...FLAGS.map((f) => `  ${f.flag} ${f.value}`.length));
  // Capped so the help keeps 40 columns; an option wider than that has its help on the next line.
  const column = Math.min(40, widest + 2);
  for (const f of FLAGS) {
    const left = `  ${f.flag} ${f.value}`;
    let start = lines.findIndex((line) => line === left || line.startsWith(`${left} `));
    expect(start).toBeGreaterThan(-1);
    if (left.length + 2 > column) expect(lines[start++]).toBe(left);
    // The help starts in the shared column, after at least two spaces of gap.
    const first = lines[start]!;
    expect(first.slice(0, column)).toMatch(left.length + 2 > column ? /^ +$/ : new RegExp(`^${left.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} {2,}$`));
    expect(first[column]).not.toBe(" ");
    // Continuation lines sit in the same column; together they read as the flag's help.
    const text = [first.slice(column)];
    for (let i = start + 1; lines[i]!.startsWith(" ".repeat(column)); i++) text.push(lines[i]!.slice(column));
    const fallback = DEFAULT_CONFIG[f.key];
    expect(text.join(" ")).toBe(`${f.help}${fallback === undefined ? "" : ` [${fallback}]`}`);
  }
});

test("--help names each flag's environment variables", () => {
  for (const f of FLAGS) expect(help).toContain(`env: ${f.env.join(", ")}`);
});
