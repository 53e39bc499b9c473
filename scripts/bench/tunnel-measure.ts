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

/** The local server of tunnel-local.ts, in its own process. */
export async function startLocal(): Promise<{ url: string; stop(): Promise<void> }> {
  const local = await spawnUntil([process.execPath, join(import.meta.dir, "tunnel-local.ts")], /local ready (\S+)/);
  return { url: local.match[1]!, stop: local.stop };
}

/** The `tunnel` command exposing `localUrl`, dialing `dial` (the broker, or a WAN link in front of it). */
export async function startTunnelClient(brokerUrl: string, localUrl: string, keyPath: string, dial = brokerUrl): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const client = await spawnUntil(
    [process.execPath, join(ROOT, "src/cli.ts"), "tunnel", "--server", dial, "--name", `bench-${process.pid}`, "--to", localUrl, "--key", keyPath],
    /is live at (\S+)/,
  );
  // Visitors reach the broker itself, whatever the client dialed.
  return { url: brokerUrl + new URL(client.match[1]!).pathname, pid: client.pid, stop: client.stop };
}

/** A WAN link (wan-link.ts) to `to` (host:port), in its own process. */
export async function startWanLink(to: string, rttMs: number, mbit: number): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const link = await spawnUntil([process.execPath, join(import.meta.dir, "wan-link.ts"), "--to", to, "--rtt", String(rttMs), "--mbit", String(mbit)], /wan ready (\d+)/);
  return { url: `http://127.0.0.1:${link.match[1]}`, pid: link.pid, stop: link.stop };
}

/** The owner's machine: the local server and, in its own process, the `tunnel` command. */
export async function startOrigin(brokerUrl: string, keyPath: string): Promise<Origin> {
  const local = await startLocal();
  const client = await startTunnelClient(brokerUrl, local.url, keyPath);
  return {
    local: local.url,
    tunnel: client.url,
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
