import { describe, expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { ConfigError, DEFAULT_CONFIG, parseArgs } from "../../src/config.ts";
import { CLI, spawnServer } from "../helpers/cli.ts";

const run = (args: string[], env: Record<string, string> = {}) => {
  const p = Bun.spawnSync([process.execPath, CLI, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
};

describe("command line", () => {
  test("--version prints the package version", () => {
    expect(run(["--version"])).toMatchObject({ code: 0, out: `${pkg.version}\n` });
  });

  test("--help lists every flag with its env var", () => {
    const { code, out } = run(["--help"]);
    expect(code).toBe(0);
    for (const flag of ["--port", "--hostname", "--registry", "--data-dir", "--max-message-bytes", "--max-pod-bytes", "--public-url", "PORT", "HOST"]) expect(out).toContain(flag);
  });

  test.each([
    [["--port", "99999"], "invalid --port 99999"],
    [["--port"], "--port needs a value"],
    [["--registry", "redis"], "expected one of memory, sqlite"],
    [["--max-pod-bytes", "lots"], "expected a size"],
    [["--public-url", "ftp://x"], "expected an absolute http(s) URL"],
    [["--bogus"], 'unknown option "--bogus"'],
  ])("bad flags exit 2 with a one-line reason: %p", (args, reason) => {
    const { code, err } = run(args);
    expect(code).toBe(2);
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toContain(reason);
  });

  test("a bad env value exits 2 too", () => {
    const { code, err } = run([], { PORT: "eighty" });
    expect(code).toBe(2);
    expect(err).toContain("invalid PORT=eighty");
  });

  test("two protocols on one path: refused at start, naming the path, not silently taken", () => {
    // A server that started anyway would never exit: the timeout ends it and the test fails.
    const p = Bun.spawnSync([process.execPath, CLI, "--port", "0", "--hostname", "127.0.0.1", "--y-webrtc-path", "/signal"], { stdout: "pipe", stderr: "pipe", timeout: 15_000 });
    expect(p.exitCode).toBe(1);
    expect(p.stdout.toString() + p.stderr.toString()).toContain("the path /signal is already served by another protocol");
  });

  test("flags beat env vars, env vars beat defaults", () => {
    const cmd = parseArgs(["--max-message-bytes=8k", "--port", "9000"], { PORT: "7000", HOST: "127.0.0.2", GEMMAPOD_SIGNAL_MAX_POD_BYTES: "2m" });
    expect(cmd).toEqual({ kind: "serve", config: { ...DEFAULT_CONFIG, port: 9000, hostname: "127.0.0.2", maxMessageBytes: 8192, maxPodBytes: 2 * 1024 * 1024 } });
    expect(() => parseArgs(["--max-message-bytes", "1"])).toThrow(ConfigError);
  });

  test("starts, serves /health, and exits 0 on SIGTERM", async () => {
    const server = await spawnServer([]);
    const health = await (await fetch(`${server.url}/health`)).json();
    expect(health).toEqual({ ok: true, origins: [], sessions: 0, registry: "memory", damagedPods: 0, storesAway: [], warnings: [] });
    expect(await server.stop("SIGTERM")).toBe(0);
  });
});

test("the README documents every flag and its environment variables", async () => {
  const { FLAGS } = await import("../../src/config.ts");
  const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();
  for (const f of FLAGS) {
    expect(readme).toContain(f.flag);
    for (const env of f.env) expect(readme).toContain(env);
  }
});
