// Presence after a Redis gap: news published before every node announced itself again is lost
// in pub/sub, so each node resyncs its rooms once it is back (see docs/cluster.md, Redis outage).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { untilHealth } from "../helpers/cluster.ts";
import { openPeer } from "../helpers/peerjs.ts";
import { enterRoom, type TestPeer } from "../helpers/peers.ts";
import { redisGate, type RedisGate } from "../helpers/redis-gate.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import type { TestSocket } from "../helpers/ws-client.ts";
import { clientsSettle, ySubscriber, yUrl } from "../helpers/ywebrtc.ts";

const TTL_MS = 2000;
/** From node A's return to Redis until its room heard who joined: a re-announce, a read and a message. */
const JOINED_MS = 2000;

describe.skipIf(!redisOrSkip())("presence resync after a Redis gap", () => {
  let redis: TestRedis;
  let gate: RedisGate;
  let a: TestServer, b: TestServer;
  const peers: TestPeer[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    gate = redisGate(redis.port);
    // A reaches Redis through the gate, so the test decides when A is back.
    // PeerJS messages wait for their id longer than the gaps here last.
    a = startServer({ cluster: gate.url, clusterTtlMs: TTL_MS, peerjsExpireTimeoutMs: 15_000 });
    b = startServer({ cluster: redis.url, clusterTtlMs: TTL_MS, peerjsExpireTimeoutMs: 15_000 });
    for (const n of [a, b]) await untilHealth(n.url, (h) => h.cluster?.state === "ok" && h.cluster.nodes >= 2);
  });

  afterAll(async () => {
    for (const p of peers) p.socket.close();
    await Promise.all([a, b].map((n) => n?.close()));
    gate?.stop();
    await redis?.stop();
  });

  const enter = async (srv: TestServer, room: string) => {
    const peer = await enterRoom(srv, room);
    peers.push(peer);
    return peer;
  };
  /** Holds A away from Redis while Redis restarts empty and B comes back and announces itself again; then `meanwhile`. */
  const restartWithoutA = async (meanwhile: () => Promise<void>) => {
    gate.shut();
    await redis.kill();
    await redis.start();
    await untilHealth(b.url, (h) => h.cluster?.state === "ok", 10_000);
    await meanwhile();
  };
  const presenceOf = (type: string, key: string) => (m: Record<string, unknown>) => m.type === type && m.peer === key;
  const news = (m: Record<string, unknown>) => m.type === "peer-joined" || m.type === "peer-left";
  /** A member on A and one on B that A's member heard of. */
  const meet = async (room: string) => {
    const onA = await enter(a, room);
    const onB = await enter(b, room);
    await onA.socket.next(presenceOf("peer-joined", onB.key.id));
    return [onA, onB] as const;
  };

  test("a peer that joins on B before A is back: both sides hear of each other within 2 s of A's return; one that left meanwhile within a TTL more; nothing twice", async () => {
    // m on A since before the restart; gone on B, leaves while A is away.
    const [m, gone] = await meet("gap");
    const stays = await enter(b, "gap"); // on B, there throughout
    await m.socket.next(presenceOf("peer-joined", stays.key.id));

    let late!: TestPeer;
    await restartWithoutA(async () => {
      late = await enter(b, "gap");
      expect(late.entered.peers).not.toContain(m.key.id); // A's member is not in Redis yet
      await stays.socket.next(presenceOf("peer-joined", late.key.id));
      gone.socket.close();
      await stays.socket.next(presenceOf("peer-left", gone.key.id));
      await late.socket.next(presenceOf("peer-left", gone.key.id));
    });

    const back = performance.now();
    gate.open();
    // Who joined is known as soon as A announced itself again...
    expect(await m.socket.next(presenceOf("peer-joined", late.key.id), JOINED_MS + 3000)).toMatchObject({ webId: late.key.id });
    expect(await late.socket.next(presenceOf("peer-joined", m.key.id), JOINED_MS)).toMatchObject({ webId: m.key.id });
    const joined = performance.now() - back;
    await untilHealth(a.url, (h) => h.cluster?.state === "ok", 10_000);
    // ...who left, once every node had a TTL to come back (a late node is not a gone one).
    expect(await m.socket.next(presenceOf("peer-left", gone.key.id), TTL_MS + 1500)).toBeDefined();
    const left = performance.now() - back;
    console.log(`after A was let back to Redis: peer-joined in ${Math.round(joined)} ms, peer-left in ${Math.round(left)} ms`);
    // Nothing a socket already knew is said again, nor anything said twice.
    for (const [name, p] of [["m", m], ["stays", stays], ["late", late]] as const) {
      await p.socket.silentFor(news, 500).catch((e) => {
        throw new Error(`${name} (m ${m.key.id.slice(0, 6)}, gone ${gone.key.id.slice(0, 6)}, stays ${stays.key.id.slice(0, 6)}, late ${late.key.id.slice(0, 6)}): ${e}`);
      });
    }
    // And the two pair: an offer by key crosses from A to the late peer.
    m.socket.send({ type: "offer", to: late.key.id, sdp: "v=0 resync" });
    expect(await late.socket.next({ type: "offer" })).toMatchObject({ from: m.key.id, sdp: "v=0 resync" });
  }, 30_000);

  test("y-webrtc: counts that changed on B before A was back are re-sent to A", async () => {
    const ya = await ySubscriber(yUrl(a.url), ["counted"]);
    const yb = await ySubscriber(yUrl(b.url), ["counted"]);
    const leaving = await ySubscriber(yUrl(b.url), ["counted"]);
    expect(await clientsSettle(ya, "counted", 3)).toBe(3);
    let yb2!: TestSocket;
    await restartWithoutA(async () => {
      yb2 = await ySubscriber(yUrl(b.url), ["counted"]);
      leaving.close();
    });
    // B's count went 2 → 3 → 2 with both messages lost to A; a third subscriber on B makes the difference.
    const yb3 = await ySubscriber(yUrl(b.url), ["counted"]);
    const back = performance.now();
    gate.open();
    expect(await clientsSettle(ya, "counted", 4, JOINED_MS + 3000)).toBe(4);
    expect(await clientsSettle(yb, "counted", 4)).toBe(4);
    console.log(`y-webrtc count right on A ${Math.round(performance.now() - back)} ms after A was let back`);
    for (const s of [ya, yb, yb2, yb3]) s.close();
  }, 30_000);

  test("A's connections to Redis lost (Redis keeps its data): what A missed meanwhile reaches A's member; nothing twice", async () => {
    const [m, gone] = await meet("cut");
    gate.shut();
    await untilHealth(a.url, (h) => h.cluster?.state === "degraded", 5000);
    const late = await enter(b, "cut");
    expect(late.entered.peers).toContain(m.key.id); // A's membership is still in Redis
    gone.socket.close();
    await late.socket.next(presenceOf("peer-left", gone.key.id));
    const back = performance.now();
    gate.open();
    expect(await m.socket.next(presenceOf("peer-joined", late.key.id), JOINED_MS + 3000)).toBeDefined();
    expect(await m.socket.next(presenceOf("peer-left", gone.key.id), TTL_MS + 1500)).toBeDefined();
    console.log(`A's connections back: peer-joined and peer-left within ${Math.round(performance.now() - back)} ms`);
    await Promise.all([m.socket.silentFor(news, 500), late.socket.silentFor(news, 500)]);
  }, 30_000);

  test("PeerJS: an id that arrives on B before A is back gets the messages waiting for it on A", async () => {
    const sender = await openPeer(a.url, "gap-sender");
    sender.send({ type: "OFFER", dst: "gap-late", payload: { n: 1 } });
    await Bun.sleep(200); // waiting on A, which listens for the id's arrival
    let late!: TestSocket;
    await restartWithoutA(async () => {
      late = await openPeer(b.url, "gap-late"); // its arrival is published while A is away
    });
    const back = performance.now();
    gate.open();
    expect(await late.next({ type: "OFFER" }, JOINED_MS + 3000)).toEqual({ type: "OFFER", src: "gap-sender", dst: "gap-late", payload: { n: 1 } });
    console.log(`PeerJS: held message delivered ${Math.round(performance.now() - back)} ms after A was let back`);
    sender.close();
    late.close();
  }, 30_000);

  test("Redis frozen past the TTL: the resync after it says nothing to sockets that knew everything, and they still pair", async () => {
    const [m, p] = await meet("frozen");
    redis.freeze();
    await Bun.sleep(TTL_MS + 1000);
    redis.thaw();
    await Promise.all([a, b].map((n) => untilHealth(n.url, (h) => h.cluster?.state === "ok", 10_000)));
    // Both nodes re-announced (their beats showed the gap) and resync now and a TTL later.
    await Promise.all([m.socket.silentFor(news, TTL_MS + 1000), p.socket.silentFor(news, TTL_MS + 1000)]);
    m.socket.send({ type: "offer", to: p.key.id, sdp: "v=0 thawed" });
    expect(await p.socket.next({ type: "offer" })).toMatchObject({ from: m.key.id, sdp: "v=0 thawed" });
  }, 30_000);
});
