// The Prometheus text exposition format, version 0.0.4:
// https://prometheus.io/docs/instrumenting/exposition_formats/
import type { Counter, Family, Histogram } from "./registry.ts";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function writeFamily(out: string[], family: Family<Counter | Histogram>): void {
  out.push(`# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`);
  for (const { labels, metric } of family.series) {
    const pairs = labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    if ("bounds" in metric) writeHistogram(out, family.name, pairs, metric);
    else out.push(`${family.name}${braces(pairs)} ${formatNumber(metric.current())}\n`);
  }
}

function writeHistogram(out: string[], name: string, pairs: string[], h: Histogram): void {
  let cumulative = 0;
  h.bounds.forEach((bound, i) => {
    cumulative += h.counts[i]!;
    out.push(`${name}_bucket${braces([...pairs, `le="${formatNumber(bound)}"`])} ${cumulative}\n`);
  });
  out.push(`${name}_bucket${braces([...pairs, 'le="+Inf"'])} ${h.count}\n`);
  out.push(`${name}_sum${braces(pairs)} ${formatNumber(h.sum)}\n`);
  out.push(`${name}_count${braces(pairs)} ${h.count}\n`);
}

const braces = (pairs: string[]): string => (pairs.length === 0 ? "" : `{${pairs.join(",")}}`);

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

const escapeHelp = (s: string): string => s.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
const escapeLabel = (s: string): string => escapeHelp(s).replaceAll('"', '\\"');
