// Owner bindings and tunnel names: first claim wins in every store, and when
// two nodes on one Postgres claim at the same moment, they agree on one winner.
import { describe, expect, test } from "bun:test";
import { connectOrigin, readOwnerKey } from "../../src/client/origin-auth.ts";
import { openBindings } from "../../src/registry/bindings.ts";
import { MemoryTunnelNames, openTunnelNames } from "../../src/registry/tunnel-names.ts";
import { newOwnerKey } from "../helpers/pods.ts";
import { startServer } from "../helpers/server.ts";
import { ALL_KINDS, available, newSpot, storageServices } from "../helpers/storage.ts";

const services = await storageServices();
const KEY_A = "aa".repeat(32);
const KEY_B = "bb".repeat(32);

for (const kind of ALL_KINDS) {
  describe.skipIf(!available(kind, services))(`claims (${kind})`, () => {
    test("bindings: the first owner stays; keys are kept lower-case", async () => {
      const registry = await (await newSpot(kind, services)).open();
      try {
        const bindings = openBindings(registry);
        expect(await bindings.owner("pod-1")).toBeNull();
        expect(await bindings.bind("pod-1", KEY_A.toUpperCase())).toBe(KEY_A);
        expect(await bindings.bind("pod-1", KEY_B)).toBe(KEY_A);
        expect(await bindings.owner("pod-1")).toBe(KEY_A);
      } finally {
        await registry.close?.();
      }
    });

    test("tunnel names: ok, ok again for the holder, taken-by-other, too-many, release", async () => {
      const registry = await (await newSpot(kind, services)).open();
      try {
        const names = openTunnelNames(registry);
        expect(await names.claimTunnelName("alpha", KEY_A, 2)).toBe("ok");
        expect(await names.claimTunnelName("alpha", KEY_A.toUpperCase(), 2)).toBe("ok");
        expect(await names.claimTunnelName("alpha", KEY_B, 2)).toBe("taken-by-other");
        expect(await names.claimTunnelName("beta", KEY_A, 2)).toBe("ok");
        expect(await names.claimTunnelName("gamma", KEY_A, 2)).toBe("too-many");
        expect(await names.tunnelNameOwner("beta")).toBe(KEY_A);
        expect(await names.tunnelNameOwner("gamma")).toBeNull();
        expect(await names.releaseTunnelName("beta", KEY_B)).toBe(false);
        expect(await names.releaseTunnelName("beta", KEY_A)).toBe(true);
        expect(await names.claimTunnelName("gamma", KEY_A, 2)).toBe("ok");
        expect(await names.claimTunnelName("beta", KEY_B, 2)).toBe("ok");
      } finally {
        await registry.close?.();
      }
    });
  });
}

test("memory tunnel names are bounded in all: past the bound every new name is too many, held ones stay ok", async () => {
  const names = new MemoryTunnelNames(3);
  for (const name of ["a", "b", "c"]) expect(await names.claimTunnelName(name, KEY_A, 10)).toBe("ok");
  expect(await names.claimTunnelName("d", KEY_B, 10)).toBe("too-many");
  expect(await names.claimTunnelName("a", KEY_A, 10)).toBe("ok");
  expect(await names.releaseTunnelName("a", KEY_A)).toBe(true);
  expect(await names.claimTunnelName("d", KEY_B, 10)).toBe("ok");
});

describe.skipIf(!available("postgres+files", services))("claims racing across two nodes on one Postgres", () => {
  test("two owners binding the same pod ids at once: one wins each, both nodes agree", async () => {
    const spot = await newSpot("postgres+files", services);
    const [one, two] = [await spot.open(), await spot.open()];
    try {
      const [a, b] = [openBindings(one), openBindings(two)];
      const ids = Array.from({ length: 40 }, (_, i) => `race-${i}`);
      const results = await Promise.all(ids.map((id) => Promise.all([a.bind(id, KEY_A), b.bind(id, KEY_B)])));
      for (const [i, [fromA, fromB]] of results.entries()) {
        expect(fromA).toBe(fromB);
        expect(await b.owner(ids[i]!)).toBe(fromA);
      }
    } finally {
      await Promise.all([one.close?.(), two.close?.()]);
    }
  });

  test("tunnel names: racing claims never exceed the per-key limit nor give a name twice", async () => {
    const spot = await newSpot("postgres+files", services);
    const [one, two] = [await spot.open(), await spot.open()];
    try {
      const [a, b] = [openTunnelNames(one), openTunnelNames(two)];
      const mine = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claimTunnelName(`n${i}`, KEY_A, 5)));
      expect(mine.filter((r) => r === "ok")).toHaveLength(5);
      expect(mine.filter((r) => r === "too-many")).toHaveLength(15);
      const contested = await Promise.all([a.claimTunnelName("shared", KEY_A, 100), b.claimTunnelName("shared", KEY_B, 100)]);
      expect(contested.sort()).toEqual(["ok", "taken-by-other"]);
    } finally {
      await Promise.all([one.close?.(), two.close?.()]);
    }
  });

  test("two origins proving different keys for one pod on two nodes: exactly one registers", async () => {
    const spot = await newSpot("postgres+files", services);
    const nodes = [startServer({ registry: await spot.open(), originAuth: "claimed" }), startServer({ registry: await spot.open(), originAuth: "claimed" })];
    try {
      const keys = [await readOwnerKey(newOwnerKey().keyPath), await readOwnerKey(newOwnerKey().keyPath)];
      for (const podId of ["contested-1", "contested-2", "contested-3"]) {
        const attempts = await Promise.allSettled(nodes.map((node, i) => connectOrigin({ url: node.wsUrl, podId, key: keys[i]! })));
        expect(attempts.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const refused = attempts.find((r) => r.status === "rejected") as PromiseRejectedResult;
        expect(refused.reason.message).toBe(`pod ${podId} belongs to another owner key`);
        for (const r of attempts) if (r.status === "fulfilled") r.value.close();
      }
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  });
});
