import { describe, expect, test } from "bun:test";
import { FrameBudget, type BudgetedSocket } from "../src/limits/frame-budget.ts";
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

describe("frame budget", () => {
  const fresh = (budget: FrameBudget): BudgetedSocket => ({ tokens: budget.burst, refilledAt: performance.now(), spare: 0 });

  test("frames paid from work's allowance leave the flat bucket as it was", () => {
    const budget = new FrameBudget(1, 10);
    const s = fresh(budget);
    let left = 3;
    for (let i = 0; i < 3; i++) {
      expect(budget.charge(s)).toBe(true);
      left = budget.payFrom(s, left);
    }
    expect([left, s.tokens]).toEqual([0, 2]);
    // Allowance spent: the next frames draw on the bucket (burst 2), then are refused.
    expect([budget.charge(s), budget.payFrom(s, left), budget.charge(s), budget.charge(s)]).toEqual([true, 0, true, false]);
  });

  test("leftover allowance becomes spare, capped, and pays for late frames", () => {
    const budget = new FrameBudget(1, 5);
    const s = fresh(budget);
    budget.spill(s, 3);
    budget.spill(s, 0);
    budget.spill(s, 4);
    expect(s.spare).toBe(5);
    for (let i = 0; i < 5; i++) {
      expect(budget.charge(s)).toBe(true);
      budget.paySpare(s);
    }
    expect([s.spare, s.tokens]).toEqual([0, 2]);
    budget.charge(s);
    budget.paySpare(s); // nothing spare: the token stays spent
    expect(s.tokens).toBe(1);
  });
});
