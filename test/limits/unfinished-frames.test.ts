// A stranger's unfinished frames cannot pin the server's memory, on any websocket path:
// 200 sockets from one address, inside the default connect rate, each sending the header
// of a 13 MB text frame and then 4 MiB of it, never finishing. The server runs as its own
// process on the default flags; its RSS is read from /proc.
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { spawnServer, type RunningCli } from "../helpers/cli.ts";
import { rawUpgrade, textFrameHeader, writeJunk, type RawUpgrade } from "../helpers/raw-upgrade.ts";
import { WEBSOCKET_PATHS } from "../helpers/websocket-paths.ts";

setDefaultTimeout(120_000);

const SOCKETS = 200;
const ANNOUNCED = 13 * 1024 * 1024;
const SENT = 4 * 1024 * 1024;
const MAX_GROWTH = 128 * 1024 * 1024;
/** Below the default --ws-connect-rate (50/s per address). */
const CONNECTS_PER_SECOND = 40;

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!;
  return Number(kb) * 1024;
}

async function healthAnswers(url: string): Promise<number> {
  const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
  return r.status;
}

/** Opens `SOCKETS` upgrades at the connect rate; each sends the frame header and `bytes` of it. */
async function attack(port: number, path: string, announced: number, bytes: number): Promise<{ upgraded: number; refused: number; sent: number; sockets: RawUpgrade[] }> {
  const sockets: RawUpgrade[] = [];
  const sending: Promise<number>[] = [];
  let refused = 0;
  for (let i = 0; i < SOCKETS; i++) {
    const started = performance.now();
    const up = await rawUpgrade(port, path).catch(() => null);
    if (!up) {
      refused++;
      continue;
    }
    sockets.push(up);
    if (up.status !== 101) refused++;
    // A refused upgrade's connection gets the same bytes: an attacker does not listen.
    up.socket.write(textFrameHeader(announced));
    sending.push(writeJunk(up.socket, bytes));
    await Bun.sleep(Math.max(0, 1000 / CONNECTS_PER_SECOND - (performance.now() - started)));
  }
  const sent = (await Promise.all(sending)).reduce((a, b) => a + b, 0);
  return { upgraded: sockets.filter((s) => s.status === 101).length, refused, sent, sockets };
}

let server: RunningCli | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  cleanup?.();
  cleanup = undefined;
  await server?.stop("SIGKILL");
  server = undefined;
});

for (const target of WEBSOCKET_PATHS) {
  test(`200 unfinished 13 MB frames on ${target.name} grow the server by less than 128 MiB, and /health answers`, async () => {
    server = await spawnServer(["--log-level", "error"]);
    const port = Number(new URL(server.url).port);
    const opened = await target.open(server.url);
    cleanup = opened.close;
    expect(await healthAnswers(server.url)).toBe(200);
    await Bun.sleep(300);
    const before = rssBytes(server.proc.pid);
    const result = await attack(port, opened.path, ANNOUNCED, SENT);
    await Bun.sleep(500);
    const after = rssBytes(server.proc.pid);
    const health = await healthAnswers(server.url);
    for (const s of result.sockets) s.socket.destroy();
    const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
    console.log(`${target.name}: RSS ${mib(before)} -> ${mib(after)} MiB; ${result.upgraded} upgraded, ${result.refused} refused, ${mib(result.sent)} MiB written`);
    if (target.upgrades) expect(result.upgraded).toBeGreaterThan(100);
    expect(after - before).toBeLessThan(MAX_GROWTH);
    expect(health).toBe(200);
  });
}

test("200 frames just under the cap, never finished, hold about the cap each", async () => {
  server = await spawnServer(["--log-level", "error"]);
  const port = Number(new URL(server.url).port);
  const before = rssBytes(server.proc.pid);
  // The default cap: twice --max-message-bytes (64 KiB), at least a tunnel's binary frame (128 KiB + 5).
  const cap = 128 * 1024 + 5;
  const result = await attack(port, "/signal", cap, cap - 1);
  await Bun.sleep(500);
  const after = rssBytes(server.proc.pid);
  const held = result.sockets.filter((s) => s.open()).length;
  for (const s of result.sockets) s.socket.destroy();
  console.log(`/signal, frames of ${cap} bytes: RSS ${(before / 2 ** 20).toFixed(1)} -> ${(after / 2 ** 20).toFixed(1)} MiB with ${held} sockets holding one (${((after - before) / Math.max(1, held) / 1024).toFixed(0)} KiB each)`);
  expect(held).toBe(SOCKETS);
  expect(after - before).toBeLessThan(MAX_GROWTH);
  expect(await healthAnswers(server.url)).toBe(200);
});
