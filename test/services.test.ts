// The Redis the cluster tests use: a real server on a random port, nothing persisted, stopped after.
import { expect, test } from "bun:test";
import { redisOrSkip, startRedis } from "./helpers/redis.ts";

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
