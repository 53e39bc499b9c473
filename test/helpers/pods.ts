// Real signed pods, built by @gemmapod/toolkit exactly as an owner would.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TOOLKIT = join(import.meta.dir, "../../node_modules/@gemmapod/toolkit/dist/cli.js");
const workDir = mkdtempSync(join(tmpdir(), "gemmapod-pods-"));

export interface OwnerKey {
  publicKey: string;
  secretKey: string;
}

export interface BuiltPod {
  html: string;
  bytes: Uint8Array;
  key: OwnerKey;
  keyPath: string;
  podId: string;
  path: string;
}

let counter = 0;

function toolkit(...args: string[]): void {
  const run = Bun.spawnSync([process.execPath, TOOLKIT, ...args], { cwd: workDir, stderr: "pipe", stdout: "pipe" });
  if (run.exitCode !== 0) throw new Error(`toolkit ${args[0]} failed: ${run.stderr.toString()}`);
}

/** A fresh owner key file, as `gemmapod keygen` writes it. */
export function newOwnerKey(): { key: OwnerKey; keyPath: string } {
  const keyPath = join(workDir, `owner-${++counter}.key`);
  toolkit("keygen", "--out", keyPath);
  return { key: JSON.parse(readFileSync(keyPath, "utf8")), keyPath };
}

const cache = new Map<string, BuiltPod>();

/** Builds (once per distinct argument set) a real ~1.1 MB signed pod. */
export function buildPod(options: { podId?: string; name?: string; keyPath?: string; signalUrl?: string; transportToml?: string } = {}): BuiltPod {
  const cacheKey = JSON.stringify(options);
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const podId = options.podId ?? `pod-${++counter}`;
  const name = options.name ?? podId;
  const owner = options.keyPath ? { keyPath: options.keyPath, key: JSON.parse(readFileSync(options.keyPath, "utf8")) } : newOwnerKey();
  const n = ++counter;
  const toml = join(workDir, `pod-${n}.toml`);
  writeFileSync(
    toml,
    `name = ${JSON.stringify(name)}
persona = "Test pod"
model = "gemma4:e4b"
system_prompt = """
You are a test pod.
"""

${
      options.transportToml ??
      `[transport]
preferred = ["dartc", "fallback"]

[transport.dartc]
signal_url = ${JSON.stringify(options.signalUrl ?? "wss://signal.example.test/signal")}
pod_id = ${JSON.stringify(podId)}

[transport.fallback]
tier = "e2b"`
    }

[[tools]]
name = "share_contact"
description = "Share the owner's contact card."
`,
  );
  const out = join(workDir, `pod-${n}.html`);
  toolkit("build", toml, "--key", owner.keyPath, "--out", out);
  const bytes = new Uint8Array(readFileSync(out));
  const pod: BuiltPod = { html: new TextDecoder().decode(bytes), bytes, key: owner.key, keyPath: owner.keyPath, podId, path: out };
  cache.set(cacheKey, pod);
  return pod;
}

/** The base64 manifest span inside a pod page, for tampering tests. */
export function manifestSpan(html: string): { start: number; end: number; b64: string } {
  const m = /__GEMMAPOD_MANIFEST_B64\s*=\s*"([A-Za-z0-9+/=]+)"/.exec(html);
  if (!m) throw new Error("no manifest in pod");
  const start = m.index + m[0].indexOf('"') + 1;
  return { start, end: start + m[1]!.length, b64: m[1]! };
}

/** The pod page with its manifest base64 replaced. */
export function withManifest(html: string, b64: string): string {
  const { start, end } = manifestSpan(html);
  return html.slice(0, start) + b64 + html.slice(end);
}
