import type { ManagedRegistry } from "./types.ts";

/**
 * Removes pods nobody fetched for `ttlMs`, checking every tenth of that (at
 * most hourly, at least every 10 s). The timer never keeps the process alive.
 */
export function startJanitor(registry: ManagedRegistry, ttlMs: number, onDeleted: (id: string) => void): { stop(): void; run(): Promise<number> } {
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
      console.error("[gemmapod-signal] janitor failed:", error);
      return 0;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(run, Math.min(3_600_000, Math.max(10_000, ttlMs / 10)));
  timer.unref();
  return { stop: () => clearInterval(timer), run };
}
