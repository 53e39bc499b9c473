// Real Postgres and S3 (s3rver) servers on random loopback ports (Redis: redis.ts),
// started by the tests themselves. A missing service skips its tests with one
// line naming what to install; under CI=true it fails the run instead.

import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Subprocess } from "bun";
import { serviceMissing } from "./ci.ts";

export interface Service {
  url: string;
  stop(): Promise<void>;
}

export interface PostgresService extends Service {
  /** A new, empty database on this server; its URL. */
  freshDatabase(): Promise<string>;
  /** Stops the server (fast shutdown, connections cut), runs `whileDown`, and starts it again on the same port and data. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
}

export interface S3Service extends Service {
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `s3://bucket/<new prefix>`: a place no other test writes to. */
  freshLocation(): string;
  /** Stops the server (connections refused), runs `whileDown`, and starts it again on the same port and objects. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
}

/** Null (after one line saying what to install) when the service is missing and CI is not set. */
function missing(what: string, install: string): null {
  serviceMissing(`${what} not available: install ${install} to run these tests`);
  return null;
}

async function freePort(): Promise<number> {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}

function serviceDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

async function waitFor(what: string, ready: () => Promise<boolean>, proc: Subprocess, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with code ${proc.exitCode} while starting`);
    if (await ready().catch(() => false)) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what} did not become ready within ${ms} ms`);
}

function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "postgres"))).sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], "bin");
}

/** initdb refuses to run as root: as root, run Postgres as the `postgres` user. */
function asPostgresUser(cmd: string[]): string[] {
  return process.getuid?.() === 0 ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", ...cmd] : cmd;
}

/** A directory Postgres may use: as root, one owned by the `postgres` user. */
function postgresDir(prefix: string): string {
  const dir = serviceDir(prefix);
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(Bun.spawnSync(["id", flag, "postgres"]).stdout.toString());
    chownSync(dir, id("-u"), id("-g"));
    chmodSync(dir, 0o700);
  }
  return dir;
}

/**
 * initdb's output, kept between runs (one per Postgres version and user): each
 * server starts on a copy, twice as fast as running initdb. Built aside and
 * renamed into place, so a half-built template is never used.
 */
function initdbTemplate(bin: string): string {
  const template = join(tmpdir(), `gemmapod-pg-template-${basename(dirname(bin))}-${process.getuid?.() ?? 0}`);
  if (existsSync(join(template, "data", "PG_VERSION"))) return join(template, "data");
  const building = postgresDir("gemmapod-pg-template-building-");
  const init = Bun.spawnSync(asPostgresUser([join(bin, "initdb"), "-D", join(building, "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]), { stdout: "pipe", stderr: "pipe" });
  if (!init.success) throw new Error(`initdb failed: ${init.stderr.toString()}`);
  try {
    renameSync(building, template);
  } catch {
    removeDir(building); // another run built it first
  }
  return join(template, "data");
}

export async function startPostgres(): Promise<PostgresService | null> {
  const bin = postgresBin();
  if (!bin) return missing("Postgres", "the Debian package postgresql");
  if (process.getuid?.() === 0 && !Bun.spawnSync(["id", "postgres"]).success) return missing("the postgres user", "the Debian package postgresql");
  const dir = postgresDir("gemmapod-pg-");
  const data = join(dir, "data");
  const copy = Bun.spawnSync(["cp", "-a", initdbTemplate(bin), data], { stderr: "pipe" });
  if (!copy.success) throw new Error(`copying the Postgres template failed: ${copy.stderr.toString()}`);
  const port = await freePort();
  let proc: Subprocess;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const start = async () => {
    const args = ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"];
    proc = Bun.spawn(asPostgresUser([join(bin, "postgres"), ...args]), { stdout: "ignore", stderr: "ignore" });
    await waitFor("postgres", async () => Bun.spawnSync([join(bin, "pg_isready"), "-h", "127.0.0.1", "-p", String(port), "-q"]).success, proc);
  };
  const stopServer = async () => {
    proc.kill("SIGINT"); // fast shutdown: open connections are cut, data is kept
    await proc.exited;
  };
  await start();
  let databases = 0;
  return {
    url,
    async freshDatabase() {
      const name = `t${process.pid}_${++databases}`;
      const admin = new Bun.SQL(url, { max: 1 });
      try {
        await admin.unsafe(`CREATE DATABASE ${name}`);
      } finally {
        await admin.close();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async restart(whileDown) {
      await stopServer();
      try {
        await whileDown?.();
      } finally {
        await start();
      }
    },
    async stop() {
      await stopServer();
      removeDir(dir);
    },
  };
}

export async function startS3(): Promise<S3Service | null> {
  let S3rver: unknown;
  try {
    // s3rver ships no types; a specifier typed as a string keeps tsc from looking for them.
    S3rver = (await import("s3rver" as string)).default;
  } catch {
    return missing("S3 test server", "the npm package s3rver (bun install)");
  }
  const dir = serviceDir("gemmapod-s3-");
  const bucket = "pods";
  const serve = async (port: number) => {
    const s = new (S3rver as unknown as new (o: object) => { run(): Promise<{ port: number }>; close(): Promise<void>; httpServer?: { closeAllConnections(): void } })({
      port,
      address: "127.0.0.1",
      directory: dir,
      silent: true,
      configureBuckets: [{ name: bucket }],
    });
    return { s, port: (await s.run()).port };
  };
  let { s: server, port } = await serve(0);
  // Stopped means unreachable, as in an outage: requests in flight are cut too (a plain
  // close would wait for them, so a stop could last as long as the slowest request).
  const halt = () => {
    const closing = server.close();
    server.httpServer?.closeAllConnections();
    return closing;
  };
  let locations = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    bucket,
    // s3rver's fixed development credentials.
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    freshLocation: () => `s3://${bucket}/t${process.pid}-${++locations}`,
    async restart(whileDown) {
      await halt();
      try {
        await whileDown?.();
      } finally {
        ({ s: server } = await serve(port));
      }
    },
    async stop() {
      await halt();
      removeDir(dir);
    },
  };
}
