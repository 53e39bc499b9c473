// The servers under test, started one at a time as separate processes on
// loopback. Their output goes to a log file (not a pipe someone must drain),
// and the line every one of them prints says where: "listening on http://..."
// (ours: "listening on <bind> (<reach>); locally: http://...").
import type { Subprocess } from "bun";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CONFIG, FLAGS } from "../../src/config.ts";
import type { JsRuntime } from "./node-runtime.ts";
import { spawnTracked, stopProcess } from "./processes.ts";

export const ROOT = join(import.meta.dir, "../..");
export const HOST = "127.0.0.1";

export type ServerName = "ours" | "reference" | "bare";

export interface ServerSpec {
  name: ServerName;
  /** Human label with the runtime, for the report. */
  label: string;
  /** Serves POST /pods and GET /:id. */
  hasRegistry: boolean;
  /** The command line for `port`; 0 when the server may pick its own. */
  command(port: number): string[];
  /** The reference refuses --port 0, so it gets a free port picked here. */
  needsFixedPort: boolean;
  /** Added to the environment it starts with. */
  env?: Record<string, string>;
}

export interface RunningServer {
  spec: ServerSpec;
  url: string;
  wsUrl: string;
  pid: number;
  proc: Subprocess;
  stop(): Promise<void>;
}

const REFERENCE_CLI = join(ROOT, "node_modules/@gemmapod/signal/dist/cli.js");

/**
 * All load comes from loopback, so one address stands for thousands of clients:
 * per-address limits are raised out of the way (their checks still run).
 */
export const LOAD_LIMITS = ["--ws-connect-rate", "1000000", "--ws-message-rate", "1000000", "--max-sessions-per-pod", "1000000", "--rondevu-rate", "1000000", "--peer-message-rate", "1000000"];

/**
 * `spec` with every limit at its default but the per-address connect rate, which
 * loopback load would hit at once. Later flags win, so the defaults are appended.
 */
export function withDefaultLimits(spec: ServerSpec): ServerSpec {
  if (spec.name !== "ours") return spec; // the reference and the bare relay have no limits
  const restored = LOAD_LIMITS.filter((_, i) => i % 2 === 0 && LOAD_LIMITS[i] !== "--ws-connect-rate").flatMap((flag) => {
    const key = FLAGS.find((f) => f.flag === flag)!.key;
    return [flag, String(DEFAULT_CONFIG[key])];
  });
  return { ...spec, label: `${spec.label}, default limits`, command: (port) => [...spec.command(port), ...restored] };
}

export function oursCommand(executable: string[]): (port: number) => string[] {
  return (port) => [...executable, "--port", String(port), "--hostname", HOST, "--registry", "memory", ...LOAD_LIMITS];
}

/** ours, reference and bare, minus the ones that cannot run here (ours before src/cli.ts exists). */
export function serverSpecs(reference: JsRuntime): ServerSpec[] {
  const specs: ServerSpec[] = [];
  if (existsSync(join(ROOT, "src/cli.ts"))) {
    specs.push({
      name: "ours",
      label: `ours (bun ${Bun.version}, src/cli.ts)`,
      hasRegistry: true,
      command: oursCommand([process.execPath, join(ROOT, "src/cli.ts")]),
      needsFixedPort: false,
    });
  }
  specs.push({
    name: "reference",
    label: `@gemmapod/signal 0.2.1 (${reference.kind} ${reference.version.replace(/^bun /, "")})`,
    hasRegistry: true,
    command: (port) => [reference.path, REFERENCE_CLI, "--port", String(port), "--hostname", HOST, "--registry", "memory"],
    needsFixedPort: true,
  });
  specs.push({
    name: "bare",
    label: `bare Bun relay (bun ${Bun.version})`,
    hasRegistry: false,
    command: (port) => [process.execPath, join(import.meta.dir, "bare-relay.ts"), "--port", String(port), "--hostname", HOST],
    needsFixedPort: false,
  });
  return specs;
}

/** A port nobody listens on right now (the kernel's pick, released at once). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: HOST, port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}

export async function startServer(spec: ServerSpec, logDir: string, timeoutMs = 15_000): Promise<RunningServer> {
  mkdirSync(logDir, { recursive: true });
  const log = join(logDir, `${spec.name}.log`);
  const port = spec.needsFixedPort ? freePort() : 0;
  const fd = openSync(log, "w"); // one file description: stdout and stderr interleave, never overwrite
  const proc = spawnTracked(spec.command(port), { stdout: fd, stderr: fd, env: { ...process.env, ...spec.env } });
  closeSync(fd);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(log) ? readFileSync(log, "utf8") : "";
    const url = /(?:listening on|locally:) (http:\/\/[^\s)";]+)/.exec(text)?.[1];
    if (url) {
      await waitForHealth(url, deadline);
      return { spec, url, wsUrl: `${url.replace(/^http/, "ws")}/signal`, pid: proc.pid, proc, stop: () => stopProcess(proc) };
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stopProcess(proc, 0);
      throw new Error(`${spec.label} did not start (log ${log}): ${text.slice(-1000)}`);
    }
    await Bun.sleep(10);
  }
}

async function waitForHealth(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) return;
    await Bun.sleep(10);
  }
  throw new Error(`${url}/health did not answer`);
}
