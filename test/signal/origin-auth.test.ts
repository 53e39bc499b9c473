import { describe, expect, test } from "bun:test";
import { connectOrigin, ownerToken, readOwnerKey } from "../../src/client/origin-auth.ts";
import { SqliteRegistry } from "../../src/registry/sqlite.ts";
import { buildPod, newOwnerKey } from "../helpers/pods.ts";
import { withServer, tempDir, type TestServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/ws-client.ts";

/** Registers `podId` on a fresh socket, optionally signing this socket's challenge with `key`. */
async function register(srv: TestServer, podId: string, key?: Awaited<ReturnType<typeof readOwnerKey>>, nonceOverride?: string) {
  const socket = await TestSocket.open(srv.wsUrl);
  const nonce = await socket.challenge;
  socket.send({ t: "register", podId, ...(key ? { ownerToken: await ownerToken(key, podId, nonceOverride ?? nonce) } : {}) });
  return { socket, reply: await socket.next(), nonce };
}

const publish = (srv: TestServer, bytes: Uint8Array) => fetch(`${srv.url}/pods`, { method: "POST", body: bytes, headers: { "Content-Type": "text/html" } });

describe("owner-proven origins", () => {
  test("every socket gets a fresh challenge; Host-0.6-style register still works under open", () =>
    withServer({}, async (srv) => {
      const a = await TestSocket.open(srv.wsUrl);
      const b = await TestSocket.open(srv.wsUrl);
      expect(await a.challenge).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(await a.challenge).not.toBe(await b.challenge);
      a.send({ t: "register", podId: "open-pod" });
      expect(await a.next()).toEqual({ t: "registered", podId: "open-pod" });
      a.close();
      b.close();
    }));

  test("claimed: a pod published here needs its owner's proof; an unproven register cannot hijack it", () =>
    withServer({ originAuth: "claimed" }, async (srv) => {
      const pod = buildPod({ podId: "claimed-by-publish" });
      expect((await publish(srv, pod.bytes)).status).toBe(200);
      const owner = await readOwnerKey(pod.keyPath);

      const hijack = await register(srv, "claimed-by-publish");
      expect(hijack.reply).toEqual({ t: "error", message: "pod claimed-by-publish is claimed by an owner key: register with an ownerToken proof" });
      expect((await hijack.socket.closed).code).toBe(4003);

      const intruder = await register(srv, "claimed-by-publish", await readOwnerKey(newOwnerKey().keyPath));
      expect(intruder.reply.message).toBe("pod claimed-by-publish belongs to another owner key");
      expect((await intruder.socket.closed).code).toBe(4003);

      const real = await register(srv, "claimed-by-publish", owner);
      expect(real.reply).toEqual({ t: "registered", podId: "claimed-by-publish" });
      // Unclaimed pods stay open to anyone.
      const other = await register(srv, "not-claimed");
      expect(other.reply).toEqual({ t: "registered", podId: "not-claimed" });
      real.socket.close();
      other.socket.close();
    }));

  test("claimed: the first proven register binds the pod; unproven ones cannot replace it", () =>
    withServer({ originAuth: "claimed" }, async (srv) => {
      const owner = await readOwnerKey(newOwnerKey().keyPath);
      const first = await register(srv, "claimed-by-register", owner);
      expect(first.reply.t).toBe("registered");
      const hijack = await register(srv, "claimed-by-register");
      expect(hijack.reply.t).toBe("error");
      expect((await hijack.socket.closed).code).toBe(4003);
      expect(srv.server.origins()).toContain("claimed-by-register");
      first.socket.send({ t: "register", podId: "x" });
      expect(await first.socket.next()).toEqual({ t: "error", message: "already initialized" });
      // The owner may replace its own origin (a Host reconnecting).
      const again = await register(srv, "claimed-by-register", owner);
      expect(again.reply.t).toBe("registered");
      expect((await first.socket.closed).code).toBe(4001);
      again.socket.close();
    }));

  test("a replayed token (another socket's nonce) is refused", () =>
    withServer({ originAuth: "claimed" }, async (srv) => {
      const owner = await readOwnerKey(newOwnerKey().keyPath);
      const first = await register(srv, "replay-pod", owner);
      expect(first.reply.t).toBe("registered");
      const replay = await register(srv, "replay-pod", owner, first.nonce);
      expect(replay.reply).toEqual({ t: "error", message: "ownerToken does not prove an owner key for this pod and challenge" });
      expect((await replay.socket.closed).code).toBe(4003);
      const garbage = await TestSocket.open(srv.wsUrl);
      garbage.send({ t: "register", podId: "replay-pod", ownerToken: "not-a-token" });
      expect((await garbage.next()).t).toBe("error");
      first.socket.close();
    }));

  test("required: every register needs a proof", () =>
    withServer({ originAuth: "required" }, async (srv) => {
      const bare = await register(srv, "req-pod");
      expect(bare.reply).toEqual({ t: "error", message: "this broker requires an ownerToken proof to register" });
      expect((await bare.socket.closed).code).toBe(4003);
      const owner = await readOwnerKey(newOwnerKey().keyPath);
      const proven = await register(srv, "req-pod", owner);
      expect(proven.reply.t).toBe("registered");
      proven.socket.close();
    }));

  test("bindings persist in the sqlite registry across restarts", async () => {
    const dir = tempDir();
    const owner = await readOwnerKey(newOwnerKey().keyPath);
    await withServer({ originAuth: "claimed", registry: new SqliteRegistry({ dataDir: dir }) }, async (srv) => {
      const first = await register(srv, "durable-pod", owner);
      expect(first.reply.t).toBe("registered");
      first.socket.close();
    });
    await withServer({ originAuth: "claimed", registry: new SqliteRegistry({ dataDir: dir }) }, async (srv) => {
      const hijack = await register(srv, "durable-pod");
      expect(hijack.reply.t).toBe("error");
      const back = await register(srv, "durable-pod", owner);
      expect(back.reply.t).toBe("registered");
      back.socket.close();
    });
  });

  test("connectOrigin registers with proof from a toolkit key file, and visitors reach it", () =>
    withServer({ originAuth: "required" }, async (srv) => {
      const { keyPath } = newOwnerKey();
      const ws = await connectOrigin({ url: srv.wsUrl, podId: "helper-pod", key: await readOwnerKey(keyPath) });
      expect(srv.server.origins()).toContain("helper-pod");
      const offers: any[] = [];
      ws.onmessage = (e) => offers.push(JSON.parse(String(e.data)));
      const visitor = await TestSocket.open(srv.wsUrl);
      visitor.send({ t: "offer", podId: "helper-pod", sessionId: "h1", sdp: "x" });
      for (let i = 0; i < 50 && offers.length === 0; i++) await Bun.sleep(20);
      expect(offers[0]).toEqual({ t: "offer", sessionId: "h1", sdp: "x" });
      ws.close();
      visitor.close();
    }));
});
