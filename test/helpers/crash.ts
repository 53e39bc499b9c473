import type { BuiltPod } from "./pods.ts";
import type { RunningCli } from "./cli.ts";

/**
 * Keeps `uploaders` uploads of `pods` going against `server`, SIGKILLs it
 * `killAfterMs` after the first acknowledged one (or after start, with
 * `waitForFirst: false`), and resolves with how many uploads were acknowledged.
 */
export async function killMidUpload(server: RunningCli, pods: BuiltPod[], options: { uploaders: number; killAfterMs: number; waitForFirst: boolean }): Promise<number> {
  let acknowledged = 0;
  let stop = false;
  const uploader = async (i: number) => {
    while (!stop) {
      try {
        const res = await fetch(`${server.url}/pods`, { method: "POST", body: pods[i % pods.length]!.bytes, headers: { "Content-Type": "text/html" } });
        if (res.status === 200) acknowledged++;
      } catch {
        return; // the server died under us
      }
    }
  };
  const uploads = Promise.all(Array.from({ length: options.uploaders }, (_, i) => uploader(i)));
  if (options.waitForFirst) {
    // Killed while uploads are flowing, however slow the machine: after the first success.
    const deadline = Date.now() + 20_000;
    while (acknowledged === 0 && Date.now() < deadline) await Bun.sleep(5);
  }
  await Bun.sleep(options.killAfterMs);
  server.proc.kill("SIGKILL");
  await server.proc.exited;
  stop = true;
  await uploads;
  return acknowledged;
}
