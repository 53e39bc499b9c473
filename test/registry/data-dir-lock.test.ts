// Issue 11 item 5: one server per data dir; a SIGKILLed holder never blocks a restart.
import { expect, test } from "bun:test";
import { realpathSync } from "node:fs";
import { DataDirInUseError } from "../../src/registry/data-dir-lock.ts";
import { SqliteRegistry } from "../../src/registry/sqlite.ts";
import { CLI, spawnServer } from "../helpers/cli.ts";
import { tempDir } from "../helpers/server.ts";

const sqlite = (dir: string) => ["--registry", "sqlite", "--data-dir", dir];

test("a second server on a data dir in use exits 2 naming the holder's pid; after a SIGKILL the dir can be taken again", async () => {
  const dir = realpathSync(tempDir());
  const first = await spawnServer(sqlite(dir));
  try {
    // A second server that starts anyway is killed after a while (and fails the test).
    const proc = Bun.spawn([process.execPath, CLI, "--port", "0", "--hostname", "127.0.0.1", ...sqlite(dir)], { stdout: "pipe", stderr: "pipe", timeout: 8000 });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    const second = { code, out, err };
    expect(second.code).toBe(2);
    expect(second.err.trim()).toBe(`gemmapod-signal: data dir ${dir} is in use by pid ${first.proc.pid}`);
    expect(second.out).not.toContain("listening on");
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
  } finally {
    await first.stop("SIGKILL");
  }
  // The dead holder's lock went with it.
  const restarted = await spawnServer(sqlite(dir));
  expect((await fetch(`${restarted.url}/health`)).status).toBe(200);
  expect(await restarted.stop("SIGTERM")).toBe(0);
  // And a clean shutdown releases it too.
  const again = await spawnServer(sqlite(dir));
  expect((await fetch(`${again.url}/health`)).status).toBe(200);
  expect(await again.stop("SIGTERM")).toBe(0);
}, 20_000);

test("in one process: a second registry on the same dir is refused until the first is closed", async () => {
  const dir = realpathSync(tempDir());
  const first = new SqliteRegistry({ dataDir: dir });
  let refused: unknown;
  try {
    new SqliteRegistry({ dataDir: dir });
  } catch (error) {
    refused = error;
  }
  expect(refused).toBeInstanceOf(DataDirInUseError);
  expect((refused as Error).message).toBe(`data dir ${dir} is in use by pid ${process.pid}`);
  await first.close();
  const second = new SqliteRegistry({ dataDir: dir });
  await second.close();
});
