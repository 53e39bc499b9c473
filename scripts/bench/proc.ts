// What the kernel says about a process: CPU time, resident memory, open files.
// Read from outside, so measuring a server costs the server nothing.
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat (almost always 100). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const run = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
    const n = Number(run.stdout.toString().trim());
    ticksPerSecond = run.exitCode === 0 && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

export interface CpuTime {
  userMicros: number;
  systemMicros: number;
}

/** CPU used between two readings, when both were taken. */
export function cpuDelta(before: CpuTime | undefined, after: CpuTime | undefined): CpuTime | undefined {
  if (!before || !after) return undefined;
  return { userMicros: after.userMicros - before.userMicros, systemMicros: after.systemMicros - before.systemMicros };
}

/**
 * A steady load's measured window: `seconds` of wall time and the server's CPU
 * over it, then `stop()` and a grace for frames in flight (they are counted, as their CPU is).
 */
export async function steadyWindow(seconds: number, cpu: () => CpuTime | undefined, stop: () => void): Promise<{ elapsedMs: number; used?: CpuTime }> {
  const before = cpu();
  const start = performance.now();
  await Bun.sleep(seconds * 1000);
  stop();
  const elapsedMs = performance.now() - start;
  await Bun.sleep(100);
  return { elapsedMs, used: cpuDelta(before, cpu()) };
}

/** CPU time the process (all its threads, live or exited) has used, in µs. */
export function cpuTime(pid: number): CpuTime {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) may hold spaces and parentheses: count fields after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const micros = (ticks: string | undefined) => (Number(ticks) * 1e6) / clockTicks();
  return { userMicros: micros(fields[11]), systemMicros: micros(fields[12]) }; // fields 14 (utime) and 15 (stime)
}

/** Resident set size in KiB. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** The soft limit on open files, as the process itself sees it. */
export function openFileLimit(pid: number | "self"): number {
  const limits = readFileSync(`/proc/${pid}/limits`, "utf8");
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  return !m || m[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(m[1]);
}

export function openFileCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * Resolves once the process has used at most `budgetMs` of CPU over a `windowMs`
 * window (e.g. background compression has finished), or after `timeoutMs`.
 * Returns whether it went quiet.
 */
export async function waitUntilIdle(pid: number, options: { windowMs?: number; budgetMs?: number; timeoutMs?: number } = {}): Promise<boolean> {
  const { windowMs = 200, budgetMs = 10, timeoutMs = 30_000 } = options;
  const total = () => {
    const t = cpuTime(pid);
    return (t.userMicros + t.systemMicros) / 1000;
  };
  const deadline = performance.now() + timeoutMs;
  let before = total();
  while (performance.now() < deadline) {
    await Bun.sleep(windowMs);
    const now = total();
    if (now - before <= budgetMs) return true;
    before = now;
  }
  return false;
}
