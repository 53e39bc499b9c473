// Podman as this machine runs it: runc (crun fails on this kernel's cgroup
// setup), containers.conf without default ulimits (raising NOFILE/NPROC is
// forbidden here), and never a pull: no registry is reachable.
import { join } from "node:path";
import { serviceMissing } from "./ci.ts";

const CONTAINERS_CONF = join(import.meta.dir, "containers.conf");

/** Whether podman and runc are installed; when not, one line saying so, and under CI a failure. */
export function podmanOrSkip(): boolean {
  const lacking = ["podman", "runc"].filter((bin) => !Bun.which(bin, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }));
  return lacking.length === 0 || serviceMissing(`${lacking.join(" and ")} missing: install the Debian packages podman and runc (.ci/run does)`);
}

export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `podman …`; throws with its stderr unless it exits 0 (or `allowFailure`). */
export async function podman(args: string[], options: { allowFailure?: boolean } = {}): Promise<PodmanResult> {
  const proc = Bun.spawn(["podman", "--runtime", "runc", ...args], {
    env: { ...process.env, CONTAINERS_CONF },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0 && !options.allowFailure) throw new Error(`podman ${args.join(" ")} exited ${code}: ${stderr.trim().slice(-2000)}`);
  return { code, stdout, stderr };
}

/** A label of a local image, or undefined when the image is not there. */
export async function imageLabel(image: string, label: string): Promise<string | undefined> {
  const inspect = await podman(["image", "inspect", "--format", `{{index .Labels "${label}"}}`, image], { allowFailure: true });
  return inspect.code === 0 ? inspect.stdout.trim() : undefined;
}

/**
 * `podman build` without pulling, in Docker's format (the OCI one drops
 * HEALTHCHECK). One image, no intermediate ones (--layers=false), and the image
 * it replaces under `tag` is removed: repeated runs leave nothing behind.
 */
export async function buildImage(tag: string, args: string[]): Promise<void> {
  const idOf = async () => (await podman(["image", "inspect", "--format", "{{.Id}}", tag], { allowFailure: true })).stdout.trim();
  const previous = await idOf();
  await podman(["build", "--pull=never", "--format", "docker", "--layers=false", "-t", tag, ...args]);
  if (previous && previous !== (await idOf())) await podman(["rmi", previous], { allowFailure: true });
}
