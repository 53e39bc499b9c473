import type { Subprocess } from "bun";
import { join } from "node:path";

export const CLI = join(import.meta.dir, "../../src/cli.ts");

export interface RunningCli {
  url: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  output(): string;
}

/**
 * Starts a server process (`bun src/cli.ts` by default, or any executable) on a
 * free loopback port and waits for its start-up line ("listening on …; locally: URL").
 */
export async function spawnServer(
  args: string[],
  options: { command?: string[]; cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunningCli> {
  const command = options.command ?? [process.execPath, CLI];
  const proc = Bun.spawn([...command, "--port", "0", "--hostname", "127.0.0.1", ...args], {
    cwd: options.cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...options.env },
  });
  let output = "";
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let url: string | undefined;
  while (!url) {
    const timeout = Bun.sleep(Math.max(0, deadline - Date.now())).then(() => ({ done: true, value: undefined, timedOut: true }));
    const chunk = (await Promise.race([reader.read(), timeout])) as { done: boolean; value?: Uint8Array; timedOut?: boolean };
    if (chunk.value) output += decoder.decode(chunk.value, { stream: true });
    url = /locally: (https?:\/\/[^\s;"]+)/.exec(output)?.[1];
    if (!url && chunk.done) {
      proc.kill("SIGKILL");
      const stderr = await new Response(proc.stderr).text();
      throw new Error(`server did not start${chunk.timedOut ? " in time" : ""}: ${output}${stderr}`);
    }
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      output += decoder.decode(value, { stream: true });
    }
  })();
  return {
    url,
    proc,
    output: () => output,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

/** Runs a command to completion without blocking the event loop (servers in this process keep answering). */
export async function runCommand(
  command: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn(command, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out, err };
}
