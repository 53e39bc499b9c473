// Waiting for something to happen, instead of sleeping and hoping it did: a loaded
// 2-core machine makes every fixed settle sleep too short some day.

/** Polls `check` until it holds; fails after `ms` naming `what` (generous: the deadline is a hang guard, not a claim). */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await Bun.sleep(10);
  }
}
