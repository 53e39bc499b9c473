// The soak's report: per protocol, what was tried and how it ended, against the fault windows.
import type { FaultWindow } from "./faults.ts";
import type { Op } from "./op-log.ts";

export interface ProtocolReport {
  protocol: string;
  tried: number;
  /** Tried with no fault under way (what "failed outside" rests on). */
  triedOutside: number;
  ok: number;
  /** Failed while a fault (or its recovery) was under way: expected. */
  failedInFault: number;
  /** Failed with no fault under way: must be 0. */
  failedOutside: number;
  /** Never answered: must be 0. */
  unanswered: number;
  /** Examples of what failed outside the windows, or was never answered. */
  examples: string[];
}

export interface NodeReport {
  node: number;
  /** At the start, after each fifth of the run, and at the end (after the last operations settled). */
  rssMiB: number[];
  restarts: number;
}

export interface SoakReport {
  seconds: number;
  protocols: ProtocolReport[];
  nodes: NodeReport[];
  faults: FaultWindow[];
  pods: { stored: number; lost: number };
}

const inside = (op: Op, windows: FaultWindow[]) => windows.some((w) => (op.end ?? op.start) >= w.start && op.start <= w.end);

export function byProtocol(ops: Op[], windows: FaultWindow[]): ProtocolReport[] {
  const reports = new Map<string, ProtocolReport>();
  for (const op of ops) {
    let r = reports.get(op.protocol);
    if (!r) reports.set(op.protocol, (r = { protocol: op.protocol, tried: 0, triedOutside: 0, ok: 0, failedInFault: 0, failedOutside: 0, unanswered: 0, examples: [] }));
    r.tried++;
    if (!inside(op, windows)) r.triedOutside++;
    if (op.ok === true) r.ok++;
    else if (op.ok === undefined) r.unanswered++;
    else if (inside(op, windows)) r.failedInFault++;
    else r.failedOutside++;
    const bad = op.ok === undefined || (op.ok === false && !inside(op, windows));
    if (bad && r.examples.length < 3) r.examples.push(`t=${(op.start / 1000).toFixed(1)}s ${op.error ?? "no answer"}`);
  }
  return [...reports.values()];
}

/** Whether the soak passed: nothing failed outside a fault, nothing went unanswered, no pod lost. */
export function soakPassed(r: SoakReport): boolean {
  return r.pods.lost === 0 && r.protocols.every((p) => p.failedOutside === 0 && p.unanswered === 0 && p.ok > 0);
}

export function soakMarkdown(r: SoakReport, meta: { commit: string; date: string; command: string }): string {
  const lines = [
    `Run \`${meta.command}\` on ${meta.date}, commit \`${meta.commit}\`: ${r.seconds} s, three nodes on Redis, Postgres and S3 (s3rver), ${r.faults.length} faults.`,
    "",
    "| protocol | tried | ok | tried outside every fault window | failed in a fault window | failed outside (must be 0) | never answered (must be 0) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...r.protocols.map((p) => `| ${p.protocol} | ${p.tried} | ${p.ok} | ${p.triedOutside} | ${p.failedInFault} | ${p.failedOutside} | ${p.unanswered} |`),
    "",
    `Pods acknowledged: ${r.pods.stored}, lost: ${r.pods.lost}.`,
    "",
    "| node | RSS at start, each fifth of the run, end (MiB) | restarts (kill -9) |",
    "| --- | --- | ---: |",
    ...r.nodes.map((n) => `| ${n.node} | ${n.rssMiB.map((m) => m.toFixed(0)).join(" → ")} | ${n.restarts} |`),
    "",
    `Faults (a window runs from the fault's start to its end plus a recovery grace): ${r.faults.map((f) => `${f.name} at ${(f.start / 1000).toFixed(0)} s (for ${(f.ranMs / 1000).toFixed(1)} s)`).join("; ")}.`,
  ];
  const examples = r.protocols.flatMap((p) => p.examples.map((e) => `${p.protocol}: ${e}`));
  if (examples.length) lines.push("", "Outside the windows or never answered:", ...examples.map((e) => `- ${e}`));
  return lines.join("\n");
}
