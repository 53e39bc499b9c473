import { describe, expect, test } from "bun:test";
import * as ed from "@noble/ed25519";
import { Database } from "bun:sqlite";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SqliteRegistry } from "../../src/registry/sqlite.ts";
import { buildPod, type BuiltPod } from "../helpers/pods.ts";
import { tempDir, withServer, type TestServer } from "../helpers/server.ts";
import { ALL_KINDS, available, newSpot, storageServices } from "../helpers/storage.ts";

const ADMIN = "admin-token-0123456789abcdef";
const alice = buildPod({ podId: "takedown-alice" });
const bob = buildPod({ podId: "takedown-bob" });

const publish = async (srv: TestServer, pod: BuiltPod) => {
  const res = await fetch(`${srv.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
  return { status: res.status, body: await res.json() };
};

async function signed(pod: BuiltPod, path: string, seconds = Math.floor(Date.now() / 1000)): Promise<string> {
  const sig = await ed.signAsync(new TextEncoder().encode(`DELETE ${path} ${seconds}`), Buffer.from(pod.key.secretKey, "hex"));
  return `GemmaPod-Ed25519 ${pod.key.publicKey}.${seconds}.${Buffer.from(sig).toString("base64url")}`;
}

const del = (srv: TestServer, path: string, authorization?: string) =>
  fetch(`${srv.url}${path}`, { method: "DELETE", headers: authorization ? { Authorization: authorization } : {} });

const services = await storageServices();

for (const kind of ALL_KINDS) {
  const registry = async () => (await newSpot(kind, services)).open();

  describe.skipIf(!available(kind, services))(`taking pods down (${kind})`, () => {
    test("the owner's signature deletes a pod; afterwards it answers 410; replays are refused", async () =>
      withServer({ registry: await registry() }, async (srv) => {
        const { body } = await publish(srv, alice);
        const path = `/${body.id}`;
        const auth = await signed(alice, path);
        const res = await del(srv, path, auth);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ deleted: [body.id] });
        expect((await fetch(`${srv.url}${path}`)).status).toBe(410);
        expect((await fetch(`${srv.url}${path}/meta`)).status).toBe(410);
        expect((await del(srv, path, auth)).status).toBe(410);
        // The same signature on another pod of the owner is a replay (and the wrong path anyway).
        const second = (await publish(srv, alice)).body;
        expect((await del(srv, `/${second.id}`, auth)).status).toBe(401);
      }));

    test("an owner-wide takedown cannot be replayed by spelling its signature another way", async () =>
      withServer({ registry: await registry() }, async (srv) => {
        await publish(srv, alice);
        const path = `/owners/${alice.key.publicKey}/pods`;
        const auth = await signed(alice, path);
        expect((await del(srv, path, auth)).status).toBe(200);
        const republished = (await publish(srv, alice)).body;
        const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const last = B64URL.indexOf(auth.at(-1)!);
        for (let spare = 1; spare < 16; spare++) {
          const respelled = auth.slice(0, -1) + B64URL[last ^ spare];
          const res = await del(srv, path, respelled);
          expect(res.status).toBe(401);
        }
        // Upper-case hex is the same key and the same statement: still a replay.
        expect((await del(srv, path, auth.replace(alice.key.publicKey, alice.key.publicKey.toUpperCase()))).status).toBe(401);
        expect((await fetch(`${srv.url}/${republished.id}`)).status).toBe(200);
      }));

    test("other keys, stale clocks, bad signatures and missing headers are refused", async () =>
      withServer({ registry: await registry() }, async (srv) => {
        const { body } = await publish(srv, alice);
        const path = `/${body.id}`;
        const cases: [string | undefined, number, RegExp][] = [
          [undefined, 401, /expected Authorization/],
          [await signed(bob, path), 403, /only the pod's owner key/],
          [await signed(alice, path, Math.floor(Date.now() / 1000) - 301), 401, /outside ±5 minutes/],
          [await signed(alice, "/AAAAAAAAAAAA"), 401, /does not verify/],
          ["Bearer nope", 401, /expected Authorization/],
        ];
        for (const [auth, status, error] of cases) {
          const res = await del(srv, path, auth);
          expect(res.status).toBe(status);
          expect((await res.json()).error).toMatch(error);
        }
        expect((await fetch(`${srv.url}${path}`)).status).toBe(200);
        expect((await del(srv, "/AAAAAAAAAAAA", await signed(alice, "/AAAAAAAAAAAA"))).status).toBe(404);
      }));

    test("an owner takes down all its pods at once; others' pods stay", async () =>
      withServer({ registry: await registry() }, async (srv) => {
        const mine = [(await publish(srv, alice)).body.id, (await publish(srv, alice)).body.id];
        const theirs = (await publish(srv, bob)).body.id;
        const path = `/owners/${alice.key.publicKey}/pods`;
        const res = await del(srv, path, await signed(alice, path));
        expect(res.status).toBe(200);
        expect((await res.json()).deleted.sort()).toEqual(mine.sort());
        for (const id of mine) expect((await fetch(`${srv.url}/${id}`)).status).toBe(410);
        expect((await fetch(`${srv.url}/${theirs}`)).status).toBe(200);
        expect((await del(srv, `/owners/${bob.key.publicKey}/pods`, await signed(alice, `/owners/${bob.key.publicKey}/pods`))).status).toBe(403);
      }));

    test("the admin token deletes any pod and lists pods by owner with a cursor", async () =>
      withServer({ registry: await registry(), adminToken: ADMIN }, async (srv) => {
        const ids = [];
        for (let i = 0; i < 3; i++) ids.push((await publish(srv, alice)).body.id);
        await publish(srv, bob);
        const admin = { Authorization: `Bearer ${ADMIN}` };
        expect((await fetch(`${srv.url}/admin/pods`)).status).toBe(401);
        const page1 = await (await fetch(`${srv.url}/admin/pods?owner=${alice.key.publicKey}&limit=2`, { headers: admin })).json();
        expect(page1.pods).toHaveLength(2);
        const page2 = await (await fetch(`${srv.url}/admin/pods?owner=${alice.key.publicKey}&limit=2&cursor=${page1.nextCursor}`, { headers: admin })).json();
        expect(page2.pods).toHaveLength(1);
        expect(page2.nextCursor).toBeUndefined();
        expect([...page1.pods, ...page2.pods].map((p: any) => p.id).sort()).toEqual(ids.sort());
        expect((await (await fetch(`${srv.url}/admin/pods`, { headers: admin })).json()).pods).toHaveLength(4);
        expect((await fetch(`${srv.url}/admin/pods?limit=0`, { headers: admin })).status).toBe(400);
        expect((await del(srv, `/${ids[0]}`, `Bearer ${ADMIN}`)).status).toBe(200);
        expect((await del(srv, `/${ids[1]}`, "Bearer wrong-admin-token-000")).status).toBe(401);
      }));

    test("per-owner quotas on pods and bytes", async () => {
      await withServer({ registry: await registry(), maxPodsPerOwner: 2 }, async (srv) => {
        expect((await publish(srv, alice)).status).toBe(200);
        expect((await publish(srv, alice)).status).toBe(200);
        const third = await publish(srv, alice);
        expect(third.status).toBe(403);
        expect(third.body.error).toMatch(/quota of 2 pods/);
        expect((await publish(srv, bob)).status).toBe(200);
      });
      await withServer({ registry: await registry(), maxBytesPerOwner: alice.bytes.byteLength + 10 }, async (srv) => {
        expect((await publish(srv, alice)).status).toBe(200);
        const second = await publish(srv, alice);
        expect(second.status).toBe(413);
        expect(second.body.error).toMatch(/quota of/);
      });
    });

    test("the janitor removes pods nobody fetched within its TTL", async () => {
      // The flag's wiring is watched end to end in cli/wired-flags.test.ts; this is the rule per store.
      const TTL_MS = 1000;
      const reg = await registry();
      await withServer({ registry: reg }, async (srv) => {
        const stale = (await publish(srv, alice)).body.id;
        const fresh = (await publish(srv, alice)).body.id;
        const { startJanitor } = await import("../../src/registry/janitor.ts");
        await Bun.sleep(TTL_MS + 100); // both are past the TTL now, unless fetched
        // Identity: a compressed fetch may wait for this process's busy compression pool (other tests' servers).
        await fetch(`${srv.url}/${fresh}`, { headers: { "Accept-Encoding": "identity" } }).then((r) => r.arrayBuffer());
        // Run at once: the fresh pod was fetched milliseconds ago, a whole TTL inside its limit.
        const janitor = startJanitor(reg, TTL_MS, () => {});
        expect(await janitor.run()).toBe(1);
        janitor.stop();
        expect((await fetch(`${srv.url}/${stale}`)).status).toBe(410);
        expect((await fetch(`${srv.url}/${fresh}`)).status).toBe(200);
      });
    });
  });
}

test("sqlite start-up removes temp files and orphan blobs left by a crash", async () => {
  const dir = tempDir();
  const first = new SqliteRegistry({ dataDir: dir });
  const kept = { id: "KEEPKEEPKEEP", name: "n", ownerPubkey: "ab".repeat(32), manifestSize: 1, blobSize: 1, createdAt: new Date().toISOString(), hits: 0 };
  await first.putPod(kept, new Uint8Array([1]));
  await first.close();
  writeFileSync(join(dir, "blobs", ".tmp-XXXXXXXXXXXX.html.123.abc"), "partial");
  writeFileSync(join(dir, "blobs", "ORPHANORPHAN.html"), "no row");
  const second = new SqliteRegistry({ dataDir: dir });
  expect(readdirSync(join(dir, "blobs"))).toEqual(["KEEPKEEPKEEP.html"]);
  expect(await second.getBlob("KEEPKEEPKEEP")).toEqual(new Uint8Array([1]));
  await second.close();
  const db = new Database(join(dir, "gemmapod.sqlite"), { readonly: true });
  expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
  db.close();
});
