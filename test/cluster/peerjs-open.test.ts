// OPEN means the id takes messages from every node: a peer told so at once (the soak's PeerJS
// traffic does it) must not find nobody there. Found by the chaos soak: an OFFER sent right
// after its destination's OPEN, from another node, went undelivered about once in a thousand,
// since OPEN went out before the node's interest in the id had reached Redis. Here that node's
// link to Redis is slowed (a proxy that holds what it sends), so the race always happens.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { startNodes, untilHealth } from "../helpers/cluster.ts";
import { openPeer } from "../helpers/peerjs.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";
import type { TestServer } from "../helpers/server.ts";

const LAG_MS = 150;

/** A TCP proxy to `port` that delays what its clients send by `ms` (replies pass at once). */
function laggingProxy(port: number, ms: number): TCPSocketListener<{ upstream?: Promise<Socket<unknown>> }> {
  return Bun.listen<{ upstream?: Promise<Socket<unknown>> }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        client.data = {
          upstream: Bun.connect({ hostname: "127.0.0.1", port, socket: { data: (_, chunk) => void client.write(chunk), close: () => client.end() } }),
        };
      },
      data(client, chunk) {
        const copy = Buffer.from(chunk);
        setTimeout(() => void client.data.upstream?.then((u) => u.write(copy)), ms);
      },
      close(client) {
        void client.data.upstream?.then((u) => u.end());
      },
    },
  });
}

describe.skipIf(!redisOrSkip())("PeerJS OPEN across nodes", () => {
  let redis: TestRedis;
  let proxy: TCPSocketListener<{ upstream?: Promise<Socket<unknown>> }>;
  let a: TestServer, b: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    proxy = laggingProxy(redis.port, LAG_MS);
    [a] = await startNodes(redis.url, 1);
    [b] = await startNodes(`redis://127.0.0.1:${proxy.port}`, 1);
    for (const n of [a, b]) await untilHealth(n.url, (h) => h.cluster?.state === "ok" && h.cluster.nodes >= 2);
  });

  afterAll(async () => {
    await Promise.all([a, b].map((n) => n?.close()));
    proxy?.stop(true);
    await redis?.stop();
  });

  test("an OFFER sent from another node the moment the id is OPEN arrives at once, not after a wait", async () => {
    const sender = await openPeer(a.url, "open-sender");
    for (let i = 0; i < 3; i++) {
      const id = `open-at-once-${i}`;
      const late = await openPeer(b.url, id);
      const sent = performance.now();
      sender.send({ type: "OFFER", dst: id, payload: { i } });
      expect(await late.next({}, 3000)).toEqual({ type: "OFFER", src: "open-sender", dst: id, payload: { i } });
      // Held until the id's arrival was heard, it would come a lag later.
      expect(performance.now() - sent).toBeLessThan(LAG_MS / 2);
      late.close();
    }
    await sender.silentFor({ type: "EXPIRE" }, 500);
    sender.close();
  }, 20_000);
});
