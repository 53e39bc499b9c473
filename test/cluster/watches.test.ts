// Hub.watch across nodes, on a real Redis: a watcher hears its holder is gone however the
// change reached it — a takeover of a holder it never saw, a release while Redis was away,
// a change published while its subscriber was disconnected — and a frozen Redis fails calls
// in bounded time instead of hanging them.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { RedisHub } from "../../src/cluster/redis-hub.ts";
import { REPLY_TIMEOUT_MS } from "../../src/cluster/redis-deadlines.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";

const TTL_MS = 2000;
let names = 0;
const uniqueName = () => `w-${process.pid}-${++names}`;

/** A watch whose `fired` resolves when onGone runs. */
function watching(hub: RedisHub, name: string) {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  let count = 0;
  const stop = hub.watch(name, () => (count++, fire()));
  return { fired, stop, count: () => count };
}

const within = (p: Promise<void>, ms: number) => Promise.race([p.then(() => "fired"), Bun.sleep(ms).then(() => "silent")]);

describe.skipIf(!redisOrSkip())("watches across nodes", () => {
  let redis: TestRedis;
  let server: Server<unknown>;
  let a: RedisHub, b: RedisHub, c: RedisHub;
  const hubs = () => [a, b, c];

  beforeAll(async () => {
    redis = await startRedis();
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("no"), websocket: { message() {} } });
    [a, b, c] = [0, 1, 2].map(() => new RedisHub({ url: redis.url, ttlMs: TTL_MS, server: () => server })) as [RedisHub, RedisHub, RedisHub];
    await Promise.all(hubs().map((h) => h.ready));
  });

  afterAll(async () => {
    await Promise.all(hubs().map((h) => h?.close()));
    server?.stop(true);
    await redis?.stop();
  });

  afterEach(async () => {
    redis.thaw();
    // Every hub is back to ok before the next test.
    for (const deadline = Date.now() + 10_000; hubs().some((h) => h.status().state !== "ok") && Date.now() < deadline; ) await Bun.sleep(50);
  });

  /** Until Redis has answered this node's watch of `name`. */
  async function watched(name: string) {
    while (!((await redis.command("SMEMBERS", `gp:w:${name}`)) as string[]).includes(a.status().node)) await Bun.sleep(10);
    await redis.command("PING");
    await Bun.sleep(20);
  }

  test("a watch joined while nobody held the name still ends when a holder it never saw is replaced", async () => {
    const name = uniqueName();
    const first = watching(a, name);
    await watched(name);
    // B claims: a first claim tells no watcher. A second lookup on A joins the same watch.
    await b.claim(name, "on-b", () => {});
    const second = watching(a, name);
    first.stop();
    await c.claim(name, "on-c", () => {});
    expect(await within(second.fired, 10_000)).toBe("fired");
  });

  test("a holder that gave the name up while Redis was away is gone once Redis is back", async () => {
    const name = uniqueName();
    const claim = await b.claim(name, "on-b", () => {});
    const w = watching(a, name);
    await watched(name);
    await redis.kill();
    claim.release();
    await redis.start();
    expect(await within(w.fired, 8000)).toBe("fired");
  }, 15_000);

  test("a takeover published while the watcher's subscriber was disconnected is noticed when it resubscribes", async () => {
    const name = uniqueName();
    await b.claim(name, "on-b", () => {});
    const w = watching(a, name);
    await watched(name);
    // The claim changes with no message to anyone (as if A's subscriber missed it), then subscribers drop.
    await redis.command("SET", `gp:c:${name}`, `${c.status().node}|999999|on-c`);
    await redis.command("CLIENT", "KILL", "TYPE", "pubsub");
    expect(await within(w.fired, 5000)).toBe("fired");
  });

  test("Redis away for longer than the TTL, every node with it: on its return nobody counts anybody dead", async () => {
    const name = uniqueName();
    await b.claim(name, "on-b", () => {});
    const w = watching(a, name);
    await watched(name);
    redis.freeze();
    await Bun.sleep(TTL_MS + 800);
    redis.thaw();
    // Each node's entry in gp:nodes is stale by more than the TTL, but so was everyone's access.
    expect(await within(w.fired, TTL_MS + 1500)).toBe("silent");
    expect(String(await redis.command("GET", `gp:c:${name}`))).toStartWith(`${b.status().node}|`);
    expect(a.status().nodes).toBe(3);
  }, 15_000);

  test("a claim that missed its reply deadline but ran once Redis answered is given back", async () => {
    const name = uniqueName();
    redis.freeze();
    await expect(b.claim(name, "on-b", () => {})).rejects.toThrow("unreachable");
    redis.thaw();
    let stored: unknown = "never read";
    for (const deadline = Date.now() + 3000; stored !== null && Date.now() < deadline; await Bun.sleep(50)) stored = await redis.command("GET", `gp:c:${name}`);
    expect(stored).toBeNull();
  }, 10_000);

  test("a frozen Redis fails calls in bounded time and reports degraded; thawed, the node is ok again", async () => {
    redis.freeze();
    const asked = performance.now();
    await expect(a.locate(uniqueName())).rejects.toThrow("unreachable");
    const took = performance.now() - asked;
    expect(took).toBeGreaterThanOrEqual(REPLY_TIMEOUT_MS - 100);
    expect(took).toBeLessThan(REPLY_TIMEOUT_MS + 1000);
    expect(a.status().state).toBe("degraded");
    redis.thaw();
    for (const deadline = Date.now() + 5000; a.status().state !== "ok" && Date.now() < deadline; ) await Bun.sleep(50);
    expect(a.status().state).toBe("ok");
    expect(await a.locate(uniqueName())).toEqual({ at: "nowhere" });
  }, 15_000);
});
