// The /.tunnel frame budget on its own: what a download brings along passes, a flood does not.
import { expect, test } from "bun:test";
import { TunnelBudget } from "../../src/tunnel/budget.ts";
import { bodyFrameBytes, creditDue, MAX_CHUNK_BYTES } from "../../src/tunnel/protocol.ts";

const IDLE_RATE = 100; // the default --ws-message-rate

test("big frames, each with the few-byte remainder a socket read leaves, pass however many there are", () => {
  const budget = new TunnelBudget(IDLE_RATE, 10);
  for (let i = 0; i < 100_000; i++) {
    expect(budget.frame(1, 64 * 1024)).toBe(true);
    expect(budget.frame(1, 72)).toBe(true);
  }
});

test("small frames alone are held to the request's allowance, big ones interleaved or not", () => {
  const budget = new TunnelBudget(IDLE_RATE, 10);
  let passed = 0;
  while (passed < 100_000 && budget.frame(1, 200)) passed++;
  // What a fresh socket holds (twice the idle rate) plus the allowance the request brought.
  expect(passed).toBeGreaterThanOrEqual(1200);
  expect(passed).toBeLessThan(1300);
  // One big frame earns four small ones (64 KiB / 16 KiB), not a flood.
  expect(budget.frame(1, 64 * 1024)).toBe(true);
  let earned = 0;
  while (earned < 100 && budget.frame(1, 200)) earned++;
  expect(earned).toBeLessThanOrEqual(5);
});

test("a sliver of credit waits while there is more to send; a chunk's last bytes go whatever their size", () => {
  expect(bodyFrameBytes(200, 64 * 1024)).toBe(0);
  expect(bodyFrameBytes(16 * 1024, 64 * 1024)).toBe(16 * 1024);
  expect(bodyFrameBytes(200, 72)).toBe(72);
  expect(bodyFrameBytes(512 * 1024, 1024 * 1024)).toBe(MAX_CHUNK_BYTES);
  expect(bodyFrameBytes(0, 1)).toBe(0);
});

test("credit goes back in quarter windows, or from an empty queue at 16 KiB, never as a sliver", () => {
  const window = 64 * 1024;
  expect(creditDue(16 * 1024, window, false)).toBe(true);
  expect(creditDue(16 * 1024 - 1, window, false)).toBe(false);
  expect(creditDue(72, window, true)).toBe(false);
  expect(creditDue(16 * 1024, window, true)).toBe(true);
  expect(creditDue(100 * 1024, 512 * 1024, false)).toBe(false);
  expect(creditDue(128 * 1024, 512 * 1024, false)).toBe(true);
});
