// PeerJS across two nodes on one Redis: one id space (ID-TAKEN and re-attach
// across nodes), delivery across nodes, and the offline queue that follows an
// id to the node it connects on.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { spawnServer } from "../helpers/cli.ts";
import { startNodes, untilHealth } from "../helpers/cluster.ts";
import { openPeer, peerjsUrl } from "../helpers/peerjs.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";
import type { TestServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/ws-client.ts";
import { REPLY_TIMEOUT_MS } from "../../src/cluster/redis-deadlines.ts";
import { scrape, value } from "../helpers/metrics.ts";
import { until } from "../helpers/until.ts";

describe.skipIf(!redisOrSkip())("PeerJS across two nodes", () => {
  let redis: TestRedis;
  let a: TestServer, b: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await startNodes(redis.url, 2, { peerjsExpireTimeoutMs: 1000 });
  });

  afterAll(async () => {
    await Promise.all([a, b].map((n) => n?.close()));
    await redis?.stop();
  });

  test("an id held on A is taken on B; the same token on B re-attaches and A's socket is closed", async () => {
    const holder = await openPeer(a.url, "one-space", "tok-1");
    const thief = await TestSocket.open(peerjsUrl(b.url, { key: "peerjs", id: "one-space", token: "tok-2" }));
    expect(await thief.next()).toEqual({ type: "ID-TAKEN", payload: { msg: "ID is taken" } });
    const back = await openPeer(b.url, "one-space", "tok-1");
    expect((await Promise.race([holder.closed, Bun.sleep(3000).then(() => null)]))?.code).toBe(4001);
    const caller = await openPeer(a.url, "rc-caller");
    caller.send({ type: "OFFER", dst: "one-space", payload: { n: 1 } });
    expect(await back.next()).toEqual({ type: "OFFER", src: "rc-caller", dst: "one-space", payload: { n: 1 } });
    back.close();
    caller.close();
  });

  test("messages both ways between nodes, src set by the sender's node", async () => {
    const x = await openPeer(a.url, "x-on-a");
    const y = await openPeer(b.url, "y-on-b");
    x.send({ type: "OFFER", dst: "y-on-b", src: "forged", payload: { sdp: "o" } });
    expect(await y.next()).toEqual({ type: "OFFER", src: "x-on-a", dst: "y-on-b", payload: { sdp: "o" } });
    y.send({ type: "ANSWER", dst: "x-on-a", payload: { sdp: "a" } });
    expect(await x.next()).toEqual({ type: "ANSWER", src: "y-on-b", dst: "x-on-a", payload: { sdp: "a" } });
    for (let n = 0; n < 20; n++) x.send({ type: "CANDIDATE", dst: "y-on-b", payload: { n } });
    for (let n = 0; n < 20; n++) expect((await y.next()).payload).toEqual({ n });
    x.close();
    y.close();
  });

  test("messages for an id nobody holds wait on the sender's node and reach it when it connects on the other, in order", async () => {
    const sender = await openPeer(a.url, "q-sender");
    sender.send({ type: "OFFER", dst: "q-late", payload: { n: 0 } });
    for (let n = 1; n <= 5; n++) sender.send({ type: "CANDIDATE", dst: "q-late", payload: { n } });
    await until("the six wait on A", async () => value(await scrape(a.url), "gemmapod_signal_peerjs_held_messages") === 6);
    const late = await openPeer(b.url, "q-late");
    for (let n = 0; n <= 5; n++) expect((await late.next()).payload).toEqual({ n });
    // No EXPIRE for them: a wait set up after theirs ends after it, and its EXPIRE comes first.
    sender.send({ type: "OFFER", dst: "q-marker", payload: {} });
    await sender.nothingBefore({ type: "EXPIRE", src: "q-late" }, { type: "EXPIRE", src: "q-marker" });
    sender.close();
    late.close();
  });

  test("unclaimed in time: EXPIRE from the absent id, once", async () => {
    const sender = await openPeer(b.url, "e-sender");
    sender.send({ type: "OFFER", dst: "e-nobody", payload: {} });
    sender.send({ type: "CANDIDATE", dst: "e-nobody", payload: {} });
    expect(await sender.next({}, 10_000)).toEqual({ type: "EXPIRE", src: "e-nobody", dst: "e-sender" });
    // Once: a wait set up after it ends after it, and nothing comes before that one's EXPIRE.
    sender.send({ type: "OFFER", dst: "e-marker", payload: {} });
    await sender.nothingBefore(() => true, { type: "EXPIRE", src: "e-marker" });
    sender.close();
  });

  test("two sockets taking a free id at once on two nodes with different tokens: one holds it, the other hears ID-TAKEN", async () => {
    for (let round = 0; round < 40; round++) {
      const id = `race-${round}`;
      const [p, q] = [new TestSocket(peerjsUrl(a.url, { key: "peerjs", id, token: "tp" })), new TestSocket(peerjsUrl(b.url, { key: "peerjs", id, token: "tq" }))];
      const firsts = (await Promise.all([p.next(), q.next()])).map((m) => m.type);
      if (firsts[0] === "OPEN" && firsts[1] === "OPEN") {
        // Both were told OPEN before the second claim stood: the one that lost hears it now.
        expect((await Promise.any([p.next({}, 2000), q.next({}, 2000)])).type).toBe("ID-TAKEN");
      } else expect(firsts.sort()).toEqual(["ID-TAKEN", "OPEN"]);
      p.close();
      q.close();
    }
  });

  test("a node killed with -9: its ids are free on the other node within the cluster TTL + 1 s", async () => {
    const node = await spawnServer(["--cluster-ttl", "2000ms"], { command: [process.execPath, join(import.meta.dir, "../helpers/cluster-node.ts")], env: { CLUSTER_NODE_REDIS: redis.url } });
    try {
      await untilHealth(node.url, (h) => h.cluster?.state === "ok");
      await openPeer(node.url, "doomed", "tok-old");
      const taken = await TestSocket.open(peerjsUrl(a.url, { key: "peerjs", id: "doomed", token: "tok-new" }));
      expect((await taken.next()).type).toBe("ID-TAKEN");
      const killed = performance.now();
      node.proc.kill("SIGKILL");
      for (;;) {
        const s = await TestSocket.open(peerjsUrl(a.url, { key: "peerjs", id: "doomed", token: "tok-new" }));
        if ((await s.next()).type === "OPEN") break;
        expect(performance.now() - killed).toBeLessThan(3000);
        await Bun.sleep(100);
      }
      expect(performance.now() - killed).toBeLessThan(3000);
    } finally {
      node.proc.kill("SIGKILL");
    }
  });

  test("Redis frozen: frames before OPEN are bounded, and the id is refused with an ERROR in bounded time; thawed, it opens", async () => {
    redis.freeze();
    try {
      const eager = await TestSocket.open(peerjsUrl(a.url, { key: "peerjs", id: "frozen-1", token: "t" }));
      for (let i = 0; i < 40; i++) eager.send({ type: "HEARTBEAT" });
      expect(await eager.next({}, 2000)).toEqual({ type: "ERROR", payload: { msg: "too many messages before OPEN (limit 32)" } });
      const patient = await TestSocket.open(peerjsUrl(a.url, { key: "peerjs", id: "frozen-2", token: "t" }));
      expect(await patient.next({}, REPLY_TIMEOUT_MS * 2 + 2000)).toEqual({ type: "ERROR", payload: { msg: "the server could not take this id now; try again" } });
    } finally {
      redis.thaw();
    }
    await untilHealth(a.url, (h) => h.cluster?.state === "ok");
    (await openPeer(a.url, "frozen-2", "t")).close();
  }, 20_000);
});
