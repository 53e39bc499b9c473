// One process holding idle registered origins from one source address, ramped
// in steps by its parent: each stdin line `{"target": N}` opens sockets until
// this worker holds N registered origins (a bounded number in flight), then
// prints `{"holding": N, "failures": F, "ms": T}`. EOF or `{"exit": true}` ends it.
//   bun scripts/bench/connections-worker.ts '<WorkerOptions as JSON>'
import { openRawWs, type RawWs } from "./raw-ws.ts";
import { frames } from "./signal-payloads.ts";

export interface WorkerOptions {
  host: string;
  port: number;
  localAddress: string;
  /** Distinguishes this worker's pod ids from the others'. */
  worker: number;
  inFlight: number;
  /** Per origin: connect, upgrade, register, ack. */
  timeoutMs: number;
}

/** Opens one socket, registers `podId` and resolves once the server acknowledged it. */
function registerOrigin(options: WorkerOptions, podId: string, onLost: () => void): Promise<RawWs> {
  let ack: () => void = () => {};
  const registered = new Promise<void>((resolve) => (ack = resolve));
  const opened = openRawWs({
    host: options.host,
    port: options.port,
    path: "/signal",
    localAddress: options.localAddress,
    onText: (text) => {
      if (text.includes('"registered"')) ack();
    },
    onClose: onLost,
  });
  const attempt = opened.then(async (ws) => {
    ws.sendText(frames.register(podId));
    await registered;
    return ws;
  });
  const timeout = Bun.sleep(options.timeoutMs).then(() => {
    void opened.then((ws) => ws.destroy(), () => {});
    throw new Error(`${podId}: not registered within ${options.timeoutMs} ms`);
  });
  return Promise.race([attempt, timeout]);
}

async function main(options: WorkerOptions): Promise<void> {
  const held: RawWs[] = [];
  let lost = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  let next = 0;
  let opening = 0;
  const podId = () => `w${options.worker}-${String(next++).padStart(9, "0")}`;

  for await (const line of console) {
    if (line.trim() === "") break; // the parent closed our stdin
    const command = JSON.parse(line) as { target?: number; exit?: boolean };
    if (command.exit || command.target === undefined) break;
    const target = command.target;
    const start = performance.now();
    const lane = async () => {
      // Give up after as many failures as the step has sockets: a dead server must not loop us forever.
      while (held.length - lost + opening < target && failures < target) {
        opening++;
        try {
          held.push(await registerOrigin(options, podId(), () => lost++));
        } catch (error) {
          failures++;
          firstFailure ??= (error as Error).message;
        } finally {
          opening--;
        }
      }
    };
    await Promise.all(Array.from({ length: options.inFlight }, lane));
    console.log(JSON.stringify({ holding: held.length - lost, failures, firstFailure, ms: performance.now() - start }));
  }
  for (const ws of held) ws.destroy();
  process.exit(0);
}

if (import.meta.main) await main(JSON.parse(process.argv[2]!) as WorkerOptions);
