// A real redis-server for cluster tests: one per test file, on a random port,
// nothing saved to disk. Missing redis-server skips (and fails under CI=true).
import type { Subprocess } from "bun";
import { existsSync } from "node:fs";
import { portBelowEphemeralRange } from "./ports.ts";
import { serviceMissing } from "./ci.ts";

const REDIS_SERVER = "/usr/bin/redis-server";

export const redisInstalled = existsSync(REDIS_SERVER);

/** Call at the top of a test file: a one-line skip reason, or a failure under CI. */
export function redisOrSkip(): boolean {
  return redisInstalled || serviceMissing(`${REDIS_SERVER} is missing: install the Debian package redis-server`);
}

export interface TestRedis {
  url: string;
  port: number;
  /** SIGKILL, for outages; start() brings it back on the same port, empty. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing is answered; thaw() goes on where it stopped. */
  freeze(): void;
  thaw(): void;
  /** One command on a fresh connection. */
  command(...args: string[]): Promise<unknown>;
  /** At the end of the file: nothing is kept. */
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  let proc: Subprocess | undefined;
  let port = 0;
  const launch = async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const tryPort = port || portBelowEphemeralRange(); // the same port again after kill()
      proc = Bun.spawn([REDIS_SERVER, "--save", "", "--appendonly", "no", "--port", String(tryPort), "--bind", "127.0.0.1"], { stdout: "pipe", stderr: "pipe" });
      if (await ready(tryPort)) {
        port = tryPort;
        return;
      }
      proc.kill("SIGKILL");
      await proc.exited;
    }
    throw new Error("redis-server did not start");
  };
  await launch();
  const kill = async () => {
    proc?.kill("SIGKILL");
    await proc?.exited;
  };
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    port,
    kill,
    start: launch,
    freeze: () => proc?.kill("SIGSTOP"),
    thaw: () => proc?.kill("SIGCONT"),
    async command(...args) {
      const client = new Bun.RedisClient(url);
      try {
        return await client.send(args[0]!, args.slice(1));
      } finally {
        client.close();
      }
    },
    stop: kill,
  };
}

async function ready(port: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const client = new Bun.RedisClient(`redis://127.0.0.1:${port}`, { autoReconnect: false, connectionTimeout: 500 });
    try {
      if ((await client.ping()) === "PONG") return true;
    } catch {
      await Bun.sleep(50);
    } finally {
      client.close();
    }
  }
  return false;
}
