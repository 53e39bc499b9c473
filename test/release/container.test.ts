// Issue 27: the Docker image, built from the unmodified Dockerfile and run for
// real. No Docker engine here, so podman (what test/helpers/podman.ts says about
// this machine), and no registry, so the two base images are local stand-ins
// (test/helpers/standin-images.ts) under the names the Dockerfile uses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { buildPod } from "../helpers/pods.ts";
import { buildImage, podman, podmanOrSkip } from "../helpers/podman.ts";
import { sha256 } from "../helpers/random-body.ts";
import { bunImage, distrolessImage, ensureImage } from "../helpers/standin-images.ts";

const ROOT = join(import.meta.dir, "../..");
const IMAGE = "localhost/gemmapod-signal:container-test";
const RUN = `gemmapod-ct-${process.pid}-${Date.now().toString(36)}`;
const VOLUME = `${RUN}-data`;
const SHELLS = new Set(["sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"]);
const containers: string[] = [];


/** The two FROM images, with the Dockerfile's ARG defaults substituted. */
function baseImages(): string[] {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const args = Object.fromEntries([...text.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  return [...text.matchAll(/^FROM (?:--platform=\S+ )?(\S+)/gm)].map((m) => m[1]!.replace(/\$\{(\w+)\}/g, (_, name) => args[name] ?? ""));
}

/**
 * Starts the image detached, port published on a free loopback port, on the
 * named volume (or, with `volume: false`, the anonymous one the image's VOLUME
 * gives it); resolves once /health answers.
 */
async function start(options: { env?: Record<string, string>; port?: number; volume?: boolean } = {}): Promise<{ name: string; url: string }> {
  const port = options.port ?? 8080;
  const name = `${RUN}-${containers.length}`;
  containers.push(name);
  const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  // No health timer: podman would ask systemd for one; the tests run the check themselves.
  await podman(["run", "-d", "--pull=never", "--name", name, "--health-interval", "disable", "-p", `127.0.0.1::${port}`, ...(options.volume === false ? [] : ["-v", `${VOLUME}:/data`]), ...env, IMAGE]);
  const published = (await podman(["port", name, `${port}/tcp`])).stdout.trim();
  const url = `http://127.0.0.1:${published.split(":").at(-1)}`;
  const deadline = Date.now() + 20_000;
  while (!(await fetch(`${url}/health`).then((r) => r.ok, () => false))) {
    const state = (await podman(["inspect", "--format", "{{.State.Status}}", name])).stdout.trim();
    if (state !== "running" || Date.now() > deadline) throw new Error(`${name} is ${state}, /health not answering: ${(await podman(["logs", name])).stderr}`);
    await Bun.sleep(100);
  }
  return { name, url };
}

/** SIGTERM, as `docker stop` sends it; the exit code and how long it took. */
async function stop(name: string): Promise<{ code: number; ms: number }> {
  const started = performance.now();
  await podman(["kill", "--signal", "SIGTERM", name]);
  const code = Number((await podman(["wait", name])).stdout.trim());
  return { code, ms: performance.now() - started };
}

/** Paths in the image's filesystem whose name is a shell. */
async function shellsIn(image: string): Promise<string[]> {
  const root = (await podman(["image", "mount", image])).stdout.trim();
  try {
    return (readdirSync(root, { recursive: true }) as string[]).filter((path) => SHELLS.has(path.split("/").at(-1)!));
  } finally {
    await podman(["image", "unmount", image]);
  }
}

describe.skipIf(!podmanOrSkip())("the Docker image, built and run with podman", () => {
  let first: { name: string; url: string };

  beforeAll(async () => {
    const [build, runtime] = baseImages();
    const bun = bunImage(Bun.version);
    // The stand-in carries this bun; it must be the version the Dockerfile pins.
    expect([build, runtime]).toEqual([bun.name, distrolessImage.name]);
    const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
    for (const recipe of [bun, distrolessImage]) {
      const since = performance.now();
      console.log(`${recipe.name}: ${await ensureImage(recipe)} in ${seconds(since)}`);
    }
    const since = performance.now();
    const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string] ?? process.arch;
    // BuildKit sets TARGETARCH by itself; podman does when given a --platform.
    await buildImage(IMAGE, ["--platform", `linux/${arch}`, "-f", join(ROOT, "Dockerfile"), ROOT]);
    console.log(`${IMAGE}: built in ${seconds(since)}`);
    await podman(["volume", "create", VOLUME]);
    first = await start();
  }, 600_000);

  afterAll(async () => {
    if (containers.length > 0) await podman(["rm", "-f", "--volumes", ...containers], { allowFailure: true });
    await podman(["volume", "rm", "-f", VOLUME], { allowFailure: true });
  });

  test("with no arguments it serves the SQLite registry on /data and says it listens on all interfaces", async () => {
    const health = await (await fetch(`${first.url}/health`)).json();
    expect(health).toMatchObject({ ok: true, registry: "sqlite", damagedPods: 0 });
    const log = (await podman(["logs", first.name])).stdout;
    expect(log).toContain("gemmapod-signal listening on 0.0.0.0:8080 (all interfaces); locally: http://127.0.0.1:8080");
    const mounts = JSON.parse((await podman(["inspect", "--format", "{{json .Mounts}}", first.name])).stdout);
    expect(mounts).toContainEqual(expect.objectContaining({ Type: "volume", Name: VOLUME, Destination: "/data" }));
  });

  test("runs as uid/gid 65532, and the image has no shell", async () => {
    const pid = (await podman(["inspect", "--format", "{{.State.Pid}}", first.name])).stdout.trim();
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    expect(/^Uid:\s+(.*)$/m.exec(status)![1]!.split(/\s+/)).toEqual(["65532", "65532", "65532", "65532"]);
    expect(/^Gid:\s+(.*)$/m.exec(status)![1]!.split(/\s+/)).toEqual(["65532", "65532", "65532", "65532"]);
    expect(await shellsIn(IMAGE)).toEqual([]);
    const exec = await podman(["exec", first.name, "/bin/sh", "-c", "true"], { allowFailure: true });
    expect(exec.code).toBe(127);
  });

  test("the image's HEALTHCHECK passes, and follows PORT to 9000", async () => {
    expect((await podman(["healthcheck", "run", first.name], { allowFailure: true })).code).toBe(0);
    const check = JSON.parse((await podman(["image", "inspect", "--format", "{{json .HealthCheck}}", IMAGE])).stdout);
    expect(check.Test).toEqual(["CMD", "/usr/local/bin/gemmapod-signal", "healthcheck"]);
    // Its own data dir: the first container holds the named volume's lock.
    const moved = await start({ env: { PORT: "9000" }, port: 9000, volume: false });
    expect(((await fetch(`${moved.url}/health`)).status)).toBe(200);
    expect((await podman(["healthcheck", "run", moved.name], { allowFailure: true })).code).toBe(0);
    expect(await stop(moved.name)).toMatchObject({ code: 0 });
  });

  test("a published pod survives SIGTERM (exit 0 within 10 s) and comes back byte-identical from a new container on the volume", async () => {
    const pod = buildPod({ podId: "container-pod" });
    const upload = await fetch(`${first.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
    expect(upload.status).toBe(200);
    const { id } = (await upload.json()) as { id: string };
    // One server per data dir: a second container on the volume stops at once.
    const second = await podman(["run", "--rm", "--pull=never", "-v", `${VOLUME}:/data`, IMAGE], { allowFailure: true });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain("data dir /data is in use");
    const stopped = await stop(first.name);
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
    expect((await podman(["logs", first.name])).stdout).toContain("shutting down signal=SIGTERM");
    const next = await start();
    const res = await fetch(`${next.url}/${id}`, { headers: { "Accept-Encoding": "identity" } });
    expect(res.status).toBe(200);
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(pod.bytes));
    expect(await stop(next.name)).toMatchObject({ code: 0 });
  });

  test("--version prints the package version", async () => {
    const version = await podman(["run", "--rm", "--pull=never", IMAGE, "--version"]);
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});
