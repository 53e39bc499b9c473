// The Redis the cluster tests use: a real server on a random port, nothing persisted, stopped after.
import { expect, test } from "bun:test";
import { redisOrSkip, startRedis } from "./helpers/redis.ts";
import { serviceMissing, underCI } from "./helpers/ci.ts";

test("a service gate treats CI as set for any value but empty or false, and then fails instead of skipping", () => {
  for (const CI of ["true", "1", "yes", "TRUE", "on"]) expect(underCI({ CI })).toBe(true);
  for (const CI of [undefined, "", " ", "false", "False"]) expect(underCI({ CI })).toBe(false);
  const saved = process.env.CI;
  try {
    process.env.CI = "1";
    expect(() => serviceMissing("thing is missing: install the Debian package thing")).toThrow("CI is set: failing instead of skipping");
    process.env.CI = "false";
    expect(serviceMissing("thing is missing: install the Debian package thing")).toBe(false);
  } finally {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
});

test.skipIf(!redisOrSkip())("redis-server starts on a free port without persistence and stops", async () => {
  const redis = await startRedis();
  const client = new Bun.RedisClient(redis.url);
  try {
    await client.set("k", "v");
    expect(await client.get("k")).toBe("v");
    expect(await client.send("CONFIG", ["GET", "appendonly"])).toEqual({ appendonly: "no" });
  } finally {
    client.close();
    await redis.stop();
  }
  const after = new Bun.RedisClient(redis.url, { autoReconnect: false, connectionTimeout: 300 });
  await expect(after.send("PING", [])).rejects.toThrow();
  after.close();
});
