// The tunnel benchmarks' owner's machine and instruments, shared by the tunnel suite
// and the cluster suite's tunnel phase: the local server and the real `tunnel` command
// as processes, and timed downloads and small requests.
import { join } from "node:path";
import { spawnTracked, stopProcess } from "./processes.ts";
import { ROOT } from "./servers.ts";
import { percentile } from "./stats.ts";

/** What tunnel-local.ts serves at /big. */
export const MB20 = 20 * 1024 * 1024;

/** Spawns `command` and resolves with the first match of `pattern` in its output. */
async function spawnUntil(command: string[], pattern: RegExp): Promise<{ match: RegExpExecArray; pid: number; stop(): Promise<void> }> {
  const proc = spawnTracked(command, { stdout: "pipe", stderr: "inherit" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  const deadline = Date.now() + 15_000;
  let match: RegExpExecArray | null = null;
  while (!(match = pattern.exec(text))) {
    if (Date.now() > deadline) throw new Error(`${command.join(" ")} did not start: ${text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${command.join(" ")} exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
  // Keep draining (the tunnel client logs every request) so it never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return { match, pid: proc.pid, stop: () => stopProcess(proc) };
}

export interface Origin {
  /** The local server, reached directly. */
  local: string;
  /** The tunnel's public URL on the broker it connected to. */
  tunnel: string;
  /** The `tunnel` command's process. */
  clientPid: number;
  stop(): Promise<void>;
}

/** The owner's machine: the local server and, in its own process, the `tunnel` command. */
export async function startOrigin(brokerUrl: string, keyPath: string): Promise<Origin> {
  const local = await spawnUntil([process.execPath, join(import.meta.dir, "tunnel-local.ts")], /local ready (\S+)/);
  const localUrl = local.match[1]!;
  const client = await spawnUntil(
    [process.execPath, join(ROOT, "src/cli.ts"), "tunnel", "--server", brokerUrl, "--name", `bench-${process.pid}`, "--to", localUrl, "--key", keyPath],
    /is live at (\S+)/,
  );
  return {
    local: localUrl,
    tunnel: client.match[1]!,
    clientPid: client.pid,
    async stop() {
      await client.stop();
      await local.stop();
    },
  };
}

/** Reads a body to the end without keeping it; returns its size. */
export async function drain(response: Response): Promise<number> {
  let n = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) n += chunk.byteLength;
  return n;
}

/** The median rate of `times` sequential transfers of MB20 each. */
export async function mibPerSecond(run: () => Promise<number>, times: number): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    const bytes = await run();
    if (bytes !== MB20) throw new Error(`moved ${bytes} bytes, expected ${MB20}`);
    rates.push(bytes / 2 ** 20 / ((performance.now() - t) / 1000));
  }
  return percentile(rates, 0.5);
}

/** Wall time of `count` sequential GETs of `url`, each read to the end, in ms. */
export async function latencies(url: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const r = await fetch(url);
    await r.arrayBuffer();
    out.push(performance.now() - t);
  }
  return out;
}
