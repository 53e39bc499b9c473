import { expect, test } from "bun:test";
import { HitBatch } from "../../src/registry/hit-batch.ts";

test("a failed hit write keeps its counts for the next flush; nothing is counted twice", async () => {
  const written = new Map<string, number>();
  let down = true;
  const batch = new HitBatch(60_000, (b) => {
    if (down) throw new Error("database down");
    for (const [id, n] of b) written.set(id, (written.get(id) ?? 0) + n);
  });
  batch.add("a");
  batch.add("a");
  batch.add("b");
  await expect(batch.flush()).rejects.toThrow("database down");
  batch.add("a");
  expect(batch.pendingFor("a")).toBe(3);
  down = false;
  await batch.flush();
  expect(Object.fromEntries(written)).toEqual({ a: 3, b: 1 });
  expect(batch.pendingFor("a")).toBe(0);
  batch.add("b");
  batch.forget("b");
  await batch.close();
  expect(Object.fromEntries(written)).toEqual({ a: 3, b: 1 });
});
