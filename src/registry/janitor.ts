import { errorFields, Logger } from "../log/logger.ts";
import type { ManagedRegistry } from "./types.ts";

/**
 * Removes pods nobody fetched for `ttlMs`, checking every tenth of that (at
 * most hourly, at least every 10 s). The timer never keeps the process alive.
 */
export function startJanitor(
  registry: ManagedRegistry,
  ttlMs: number,
  onDeleted: (id: string) => void,
  log = Logger.errorsOnly(),
): { stop(): void; run(): Promise<number> } {
  let running = false;
  const run = async (): Promise<number> => {
    if (running) return 0;
    running = true;
    try {
      const idle = await registry.idlePods(new Date(Date.now() - ttlMs));
      for (const id of idle) {
        await registry.deletePod(id);
        onDeleted(id);
      }
      return idle.length;
    } catch (error) {
      log.error("janitor failed", errorFields(error));
      return 0;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(run, Math.min(3_600_000, Math.max(10_000, ttlMs / 10)));
  timer.unref();
  return { stop: () => clearInterval(timer), run };
}
