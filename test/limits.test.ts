import { expect, test } from "bun:test";
import { RateLimiter } from "../src/limits/rate-limiter.ts";

test("token bucket allows a burst, then refills at its rate", () => {
  let now = 0;
  const limiter = new RateLimiter(2, 3, 100, () => now);
  expect([limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([0, 0, 0]);
  expect(limiter.take("a")).toBe(1);
  expect(limiter.take("b")).toBe(0); // keys are independent
  now += 500; // one token back
  expect(limiter.take("a")).toBe(0);
  expect(limiter.take("a")).toBeGreaterThan(0);
});

test("the key map is bounded", () => {
  const limiter = new RateLimiter(1, 1, 10);
  for (let i = 0; i < 1000; i++) limiter.take(`ip-${i}`);
  expect(limiter.size()).toBe(10);
});
