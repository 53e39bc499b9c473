// A figure is one measured quantity, sampled once per run for each server; what
// is reported is the median of its samples, with ratios and the target check.
import type { ServerName } from "./servers.ts";
import { median } from "./stats.ts";

export type SuiteName = "relay" | "busy" | "connections" | "registry" | "coldstart" | "cluster" | "tunnel" | "wan" | "peers" | "peerjs" | "tracker" | "ywebrtc" | "soak";
export const SUITES: readonly SuiteName[] = ["relay", "busy", "connections", "registry", "coldstart", "cluster", "tunnel", "wan", "peers", "peerjs", "tracker", "ywebrtc", "soak"];
/** What a bare `bun run bench` runs: the soak (10 minutes of faults, its own table) only when asked for. */
export const DEFAULT_SUITES: readonly SuiteName[] = SUITES.filter((s) => s !== "soak");

export type Values = Partial<Record<ServerName, number>>;

export interface FigureDef {
  id: string;
  suite: SuiteName;
  label: string;
  unit: string;
  better: "higher" | "lower";
  /** Decimal places shown. */
  digits: number;
  /** A label rather than a quantity (e.g. an HTTP status): ratios would mean nothing. */
  noRatio?: boolean;
  target?: { text: string; met: (median: Values) => boolean | undefined };
}

export interface Figure extends Omit<FigureDef, "target"> {
  median: Values;
  samples: Partial<Record<ServerName, number[]>>;
  target?: { text: string; met: boolean | undefined };
}

/** ours / other, when both were measured. */
export function ratio(values: Values, other: ServerName): number | undefined {
  const ours = values.ours;
  const theirs = values[other];
  return ours === undefined || theirs === undefined || theirs === 0 ? undefined : ours / theirs;
}

export class FigureSet {
  private readonly defs: FigureDef[] = [];
  private readonly samples = new Map<string, Partial<Record<ServerName, number[]>>>();

  define(def: FigureDef): string {
    if (!this.samples.has(def.id)) {
      this.defs.push(def);
      this.samples.set(def.id, {});
    }
    return def.id;
  }

  add(id: string, server: ServerName, value: number | undefined): void {
    const perServer = this.samples.get(id);
    if (!perServer) throw new Error(`figure ${id} was never defined`);
    if (value === undefined || !Number.isFinite(value)) return;
    (perServer[server] ??= []).push(value);
  }

  figures(): Figure[] {
    return this.defs.map(({ target, ...def }) => {
      const samples = this.samples.get(def.id)!;
      const med: Values = {};
      for (const [server, values] of Object.entries(samples) as [ServerName, number[]][]) med[server] = median(values);
      return { ...def, median: med, samples, target: target && { text: target.text, met: target.met(med) } };
    });
  }
}

/** Target helpers: undefined (not judged) when a needed server was not measured. */
export const targets = {
  ratioAtMost(limit: number, other: ServerName): (v: Values) => boolean | undefined {
    return (v) => {
      const r = ratio(v, other);
      return r === undefined ? undefined : r <= limit;
    };
  },
  ratioAtLeast(limit: number, other: ServerName): (v: Values) => boolean | undefined {
    return (v) => {
      const r = ratio(v, other);
      return r === undefined ? undefined : r >= limit;
    };
  },
  all(...checks: ((v: Values) => boolean | undefined)[]): (v: Values) => boolean | undefined {
    return (v) => {
      const results = checks.map((check) => check(v));
      if (results.includes(false)) return false;
      return results.includes(undefined) ? undefined : true;
    };
  },
  oursAtMost(limit: number): (v: Values) => boolean | undefined {
    return (v) => (v.ours === undefined ? undefined : v.ours <= limit);
  },
  oursEquals(expected: number): (v: Values) => boolean | undefined {
    return (v) => (v.ours === undefined ? undefined : v.ours === expected);
  },
};
