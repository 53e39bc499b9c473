// Every process the suite starts goes through here, so that all of them are
// killed when the suite ends, fails, or is interrupted.
import type { Subprocess } from "bun";

const live = new Set<Subprocess>();

type SpawnOptions = Parameters<typeof Bun.spawn>[1];

export function spawnTracked(command: string[], options: SpawnOptions = {}): Subprocess {
  const proc = Bun.spawn(command, { stdin: "ignore", ...options });
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  return proc;
}

/** SIGTERM, then SIGKILL if the process has not gone within `graceMs`. */
export async function stopProcess(proc: Subprocess, graceMs = 2000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const gone = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
  if (!gone) {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

function killAll(): void {
  for (const proc of live) {
    try {
      proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

/** Kill every tracked child on exit, on SIGINT/SIGTERM/SIGHUP and on an uncaught error. */
export function killChildrenOnExit(): void {
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  const die = (error: unknown) => {
    console.error(error);
    killAll();
    process.exit(1);
  };
  process.on("uncaughtException", die);
  process.on("unhandledRejection", die);
}

/** Runs a bench child to completion (bounded by `timeoutMs`) and returns the JSON its stdout's last line holds. */
export async function runJsonChild<T>(command: string[], timeoutMs: number): Promise<T> {
  const proc = spawnTracked(command, { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout as ReadableStream).text(),
    new Response(proc.stderr as ReadableStream).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(`${command.slice(0, 2).join(" ")} exited ${code ?? proc.signalCode}: ${stderr.trim().slice(-2000)}`);
  }
  const last = stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as T;
}
