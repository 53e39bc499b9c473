// WS /y-webrtc across two nodes on one Redis: a room spans the nodes, `clients`
// counts every node's subscribers, and a newcomer's subscribe is in effect on
// every node before anything it sends next, so an answer to its announce from a
// peer on the other node always reaches it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { spawnServer } from "../helpers/cli.ts";
import { REPLY_TIMEOUT_MS } from "../../src/cluster/redis-deadlines.ts";
import { startNodes, untilHealth } from "../helpers/cluster.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";
import type { TestServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/ws-client.ts";
import { clientsSettle, publish, subscribe, ySubscriber, yUrl } from "../helpers/ywebrtc.ts";

let markers = 0;
/**
 * Asserts nothing matching `match` reached `there` (on another node) before a marker that
 * `from` publishes after it, along the same node-to-node path: both join a fresh topic,
 * `from` publishes until its node counts `there`, and `there` must hear that topic first.
 */
async function nothingAcrossBefore(from: TestSocket, there: TestSocket, match: (m: Record<string, any>) => boolean = () => true): Promise<void> {
  const topic = `marker-${++markers}`;
  await subscribe(there, [topic]);
  await subscribe(from, [topic]);
  expect(await clientsSettle(from, topic, 2)).toBe(2);
  await there.nothingBefore((m) => m.topic !== topic && match(m), { topic });
}

describe.skipIf(!redisOrSkip())("y-webrtc across two nodes on one Redis", () => {
  let redis: TestRedis;
  let one: TestServer;
  let two: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    [one, two] = await startNodes(redis.url, 2);
  });

  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
    await redis?.stop();
  });

  test("a room spans the nodes and clients counts both", async () => {
    const a = await ySubscriber(yUrl(one.url), ["spanning"]);
    const b = await ySubscriber(yUrl(two.url), ["spanning"]);
    // The node that gained the topic asked the other for its count before b's next frame.
    publish(b, "spanning", "first");
    for (const s of [a, b]) expect(await s.next()).toEqual({ type: "publish", topic: "spanning", data: "first", clients: 2 });
    const a2 = await ySubscriber(yUrl(one.url), ["spanning"]);
    publish(a, "spanning", { type: "announce", from: "a" });
    for (const s of [a, b, a2]) expect(await s.next()).toEqual({ type: "publish", topic: "spanning", data: { type: "announce", from: "a" }, clients: 3 });
    publish(b, "spanning", "sealed");
    for (const s of [a, b, a2]) expect((await s.next()).clients).toBe(3);
    // Leaving is heard on the other node too.
    a2.close();
    expect(await clientsSettle(b, "spanning", 2)).toBe(2);
    a.close();
    b.close();
  });

  test("a newcomer's announce is answered from the other node, every time", async () => {
    const room = "answers";
    const peer = await ySubscriber(yUrl(one.url), [room]);
    const answered = new Set<string>();
    // The peer answers every announce at once, as y-webrtc does.
    peer.ws.addEventListener("message", (e) => {
      const m = JSON.parse(String(e.data));
      if (m.data?.type === "announce" && m.data.from !== "peer") publish(peer, room, { type: "signal", from: "peer", to: m.data.from, signal: { type: "offer" } });
    });
    for (let i = 0; i < 20; i++) {
      const newcomer = await TestSocket.open(yUrl(two.url));
      // No waiting between the subscribe and the announce: the client sends them together.
      newcomer.send({ type: "subscribe", topics: [room] });
      publish(newcomer, room, { type: "announce", from: `n${i}` });
      const answer = await newcomer.next((m) => m.data?.to === `n${i}`, 3000);
      expect(answer.data.from).toBe("peer");
      answered.add(answer.data.to);
      newcomer.close();
    }
    expect(answered.size).toBe(20);
    peer.close();
  });

  test("a node that dies (kill -9) stops counting: its farewell sets its count to 0", async () => {
    const node = await spawnServer(["--cluster-ttl", "2000ms"], { command: [process.execPath, join(import.meta.dir, "../helpers/cluster-node.ts")], env: { CLUSTER_NODE_REDIS: redis.url } });
    try {
      await untilHealth(node.url, (h) => h.cluster?.state === "ok");
      const a = await ySubscriber(yUrl(one.url), ["mortal"]);
      await ySubscriber(yUrl(node.url), ["mortal"]);
      publish(a, "mortal", 1);
      expect((await a.next()).clients).toBe(2);
      node.proc.kill("SIGKILL");
      expect(await clientsSettle(a, "mortal", 1, 2000 + 3000)).toBe(1);
      a.close();
    } finally {
      node.proc.kill("SIGKILL");
    }
  }, 15_000);

  test("--y-webrtc-max-subscribers counts every node's subscribers", async () => {
    const [x, y] = await startNodes(redis.url, 2, { yWebrtcMaxSubscribers: 2 });
    try {
      const a1 = await ySubscriber(yUrl(x!.url), ["capped"]);
      const a2 = await ySubscriber(yUrl(x!.url), ["capped"]);
      const b = await TestSocket.open(yUrl(y!.url));
      b.send({ type: "subscribe", topics: ["capped"] });
      expect(await b.next()).toEqual({ type: "error", message: "topic is full (limit 2 subscribers)" });
      // The refused socket's node tells the others it has none again (just after the error went out).
      expect(await clientsSettle(a1, "capped", 2)).toBe(2);
      await nothingAcrossBefore(a1, b);
      for (const s of [a1, a2, b]) s.close();
    } finally {
      await Promise.all([x?.close(), y?.close()]);
    }
  });

  test("with --y-webrtc-max-topics raised, a client with that many rooms is not cut for the announces held while its subscribe crosses Redis", async () => {
    const [wide] = await startNodes(redis.url, 1, { yWebrtcMaxTopicsPerSocket: 150 });
    try {
      const ws = new WebSocket(yUrl(wide!.url));
      await new Promise((r) => ws.addEventListener("open", r, { once: true }));
      let announces = 0;
      const errors: string[] = [];
      let closed: number | undefined;
      ws.addEventListener("message", (e) => {
        const m = JSON.parse(String(e.data));
        if (m.type === "publish") announces++;
        else if (m.type === "error") errors.push(m.message);
      });
      ws.addEventListener("close", (e) => (closed = e.code));
      const topics = Array.from({ length: 150 }, (_, i) => `wide-${i}`);
      // As y-webrtc's SignalingConn does on open: one subscribe with every room, then an announce in each.
      ws.send(JSON.stringify({ type: "subscribe", topics }));
      for (const topic of topics) ws.send(JSON.stringify({ type: "publish", topic, data: { type: "announce", from: "wide" } }));
      const end = Date.now() + 5000;
      while (announces < topics.length && closed === undefined && Date.now() < end) await Bun.sleep(20);
      expect(errors).toEqual([]);
      expect(closed).toBeUndefined();
      expect(announces).toBe(topics.length);
      ws.close();
    } finally {
      await wide!.close();
    }
  });

  test("rooms stay apart across nodes too", async () => {
    const a = await ySubscriber(yUrl(one.url), ["left-room"]);
    const b = await ySubscriber(yUrl(two.url), ["right-room"]);
    publish(a, "left-room", 1);
    expect((await a.next()).clients).toBe(1);
    await nothingAcrossBefore(a, b);
    a.close();
    b.close();
  });

  test("Redis frozen: a subscribe takes effect on its node within the reply deadline, and the room works locally", async () => {
    redis.freeze();
    try {
      const started = Date.now();
      const a = await ySubscriber(yUrl(one.url), ["frozen"]);
      const b = await ySubscriber(yUrl(one.url), ["frozen"]);
      expect(Date.now() - started).toBeLessThan(REPLY_TIMEOUT_MS + 1500);
      publish(a, "frozen", "local");
      expect(await b.next()).toEqual({ type: "publish", topic: "frozen", data: "local", clients: 2 });
      a.close();
      b.close();
    } finally {
      redis.thaw();
    }
  }, 15_000);
});
