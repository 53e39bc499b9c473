// Turns figures into the console table, the JSON file and the section of
// docs/benchmarks.md between its two markers.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ratio, SUITES, type Figure, type SuiteName } from "./figures.ts";

export interface RunMeta {
  date: string;
  commit: string;
  command: string;
  machine: string;
  servers: string[];
  options: Record<string, unknown>;
}

const SUITE_TITLES: Record<SuiteName, string> = {
  relay: "Relay",
  busy: "Busy origin, default limits",
  connections: "Connections",
  registry: "Registry",
  coldstart: "Cold start",
  cluster: "Cluster (ours only: one node vs. two nodes on Redis)",
  tunnel: "Tunnel",
  wan: "Tunnel over an emulated WAN (1 Gbit/s)",
  peers: "Peers (/.webrtc)",
  peerjs: "PeerJS (reference: peer 1.0.2)",
  tracker: "WebTorrent tracker (WS /announce; reference: bittorrent-tracker)",
  ywebrtc: "Yjs (/y-webrtc; reference: y-webrtc bin/server.js)",
  soak: "Chaos soak (its own table, in docs/cluster.md)",
};

const HEADER = ["figure", "unit", "ours", "reference", "bare", "ours/ref", "ours/bare", "target", "met"];

function num(v: number | undefined, digits: number): string {
  if (v === undefined) return "–";
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function verdict(met: boolean | undefined, hasTarget: boolean): string {
  if (!hasTarget) return "";
  return met === undefined ? "n/a" : met ? "yes" : "**NO**";
}

function rows(figures: Figure[], suite: SuiteName): string[][] {
  return figures
    .filter((f) => f.suite === suite)
    .map((f) => [
      f.label,
      f.unit,
      num(f.median.ours, f.digits),
      num(f.median.reference, f.digits),
      num(f.median.bare, f.digits),
      num(f.noRatio ? undefined : ratio(f.median, "reference"), 2),
      num(f.noRatio ? undefined : ratio(f.median, "bare"), 2),
      f.target?.text ?? "",
      verdict(f.target?.met, f.target !== undefined),
    ]);
}

function suitesIn(figures: Figure[]): SuiteName[] {
  return SUITES.filter((s) => figures.some((f) => f.suite === s));
}

export function consoleTable(figures: Figure[]): string {
  const out: string[] = [];
  for (const suite of suitesIn(figures)) {
    const body = rows(figures, suite).map((r) => r.map((cell) => cell.replaceAll("**", "")));
    const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((cell, i) => (i === 0 || i >= 7 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
    out.push(`\n${SUITE_TITLES[suite]}`, line(HEADER), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line));
  }
  return out.join("\n");
}

export function markdownSection(figures: Figure[], meta: RunMeta, notes: string[]): string {
  const out = [
    `Latest run: ${meta.date}, commit \`${meta.commit}\`, \`${meta.command}\`.`,
    "",
    `Machine: ${meta.machine}.`,
    "",
    ...meta.servers.map((s) => `- ${s}`),
    "",
  ];
  for (const suite of suitesIn(figures)) {
    out.push(`### ${SUITE_TITLES[suite]}`, "", `Reproduce: \`bun run bench -- --only ${suite}\``, "");
    out.push(`| ${HEADER.join(" | ")} |`, `|${HEADER.map((_, i) => (i >= 2 && i <= 6 ? " ---: " : " --- ")).join("|")}|`);
    for (const r of rows(figures, suite)) out.push(`| ${r.join(" | ")} |`);
    out.push("");
  }
  if (notes.length) out.push("Notes from this run:", "", ...notes.map((n) => `- ${n}`), "");
  return out.join("\n");
}

const BEGIN = "<!-- bench:latest:begin (written by `bun run bench`; edit outside the markers) -->";
const END = "<!-- bench:latest:end -->";

/** Replaces the generated section of the docs page, keeping everything outside the markers. */
/** Replaces what lies between the markers in `path` (appending them the first time). */
export function updateDocs(path: string, section: string, markers = { begin: BEGIN, end: END }): void {
  const generated = `${markers.begin}\n${section}\n${markers.end}`;
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n\n## Latest results\n\n";
  const start = current.indexOf(markers.begin);
  const end = current.indexOf(markers.end);
  const next =
    start !== -1 && end > start ? current.slice(0, start) + generated + current.slice(end + markers.end.length) : `${current.trimEnd()}\n\n${generated}\n`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, next);
}

export function writeJson(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}
