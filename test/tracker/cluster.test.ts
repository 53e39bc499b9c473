// A swarm spans nodes: members through the hub (Redis), offers and answers to peers on other
// nodes, peer_ids bound across nodes, scrape counting every node's peers, a dead node's peers gone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { spawnServer, type RunningCli } from "../helpers/cli.ts";
import { startNodes, untilHealth } from "../helpers/cluster.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";
import type { TestServer } from "../helpers/server.ts";
import { binaryId, joinedPeer, offers, trackerPeer, trackerUrl, twoTrackerNodes } from "../helpers/tracker.ts";
import { TestSocket } from "../helpers/ws-client.ts";
import { until } from "../helpers/until.ts";

describe.skipIf(!redisOrSkip())("the tracker across two nodes on one Redis", () => {
  const nodes = twoTrackerNodes();
  let a: string, b: string;
  beforeAll(() => {
    [a, b] = nodes();
  });

  test("a newcomer on B sees A's peer at once: its offer reaches A, and A's answer comes back", async () => {
    const hash = binaryId();
    const onA = await joinedPeer(a, hash, { left: 0 });
    const started = performance.now();
    const onB = await trackerPeer(b);
    onB.announce(hash, { offers: offers(3) });
    expect(await onB.socket.next({ action: "announce" })).toMatchObject({ complete: 1, incomplete: 1 });
    const offer = await onA.socket.next((m) => m.offer !== undefined);
    expect(offer.peer_id).toBe(onB.peerId);
    // Well within Trystero's first re-announces (+0.2, +0.5, +1.3 s).
    expect(performance.now() - started).toBeLessThan(2000);
    onA.announce(hash, { to_peer_id: onB.peerId, offer_id: offer.offer_id, answer: { type: "answer", sdp: "from A" } });
    expect(await onB.socket.next((m) => m.answer !== undefined)).toEqual({ action: "announce", answer: { type: "answer", sdp: "from A" }, offer_id: offer.offer_id, peer_id: onA.peerId, info_hash: hash });
    onA.socket.close();
    onB.socket.close();
  });

  test("a peer_id held on A is refused on B, so a stopped sent there evicts nobody", async () => {
    const hash = binaryId();
    const victim = await joinedPeer(a, hash);
    const spoof = await trackerPeer(b, victim.peerId);
    spoof.announce(hash, { event: "stopped" });
    expect((await spoof.socket.next())["failure reason"]).toBe("peer_id belongs to another connection");
    const scraper = await TestSocket.open(b);
    scraper.send({ action: "scrape", info_hash: hash });
    expect((await scraper.next()).files[hash]).toMatchObject({ incomplete: 1 });
    // Once the victim's socket closed, its id is free on any node.
    victim.socket.close();
    await victim.socket.closed;
    for (let i = 0; ; i++) {
      spoof.announce(hash);
      if ((await spoof.socket.next())["failure reason"] === undefined) break;
      if (i > 50) throw new Error("the peer_id stayed taken");
      await Bun.sleep(50);
    }
    spoof.socket.close();
    scraper.close();
  });

  test("scrape and the announce counts add up every node's peers; a closed socket leaves the swarm everywhere", async () => {
    const hash = binaryId();
    const peers = [await joinedPeer(a, hash, { left: 0 }), await joinedPeer(b, hash), await joinedPeer(a, hash)];
    const scraper = await TestSocket.open(b);
    scraper.send({ action: "scrape", info_hash: hash });
    expect((await scraper.next()).files[hash]).toEqual({ complete: 1, incomplete: 2, downloaded: 1 });
    peers[0]!.socket.close();
    let counts: unknown;
    await until("the closed peer leaves the swarm on every node", async () => {
      scraper.send({ action: "scrape", info_hash: hash });
      counts = (await scraper.next()).files[hash];
      return (counts as { complete: number }).complete === 0;
    });
    expect(counts).toEqual({ complete: 0, incomplete: 2, downloaded: 0 });
    for (const p of peers) p.socket.close();
    scraper.close();
  });
});

describe.skipIf(!redisOrSkip())("a tracker node that dies (kill -9)", () => {
  const TTL_MS = 2000;
  let redis: TestRedis;
  let a: TestServer;
  let b: RunningCli | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    [a] = await startNodes(redis.url, 1, { clusterTtlMs: TTL_MS });
  });
  afterAll(async () => {
    b?.proc.kill("SIGKILL");
    await a?.close();
    await redis?.stop();
  });

  test("its peers leave every swarm within the cluster TTL, and their peer_ids are free again", async () => {
    b = await spawnServer(["--cluster-ttl", `${TTL_MS}ms`], { command: [process.execPath, join(import.meta.dir, "../helpers/cluster-node.ts")], env: { CLUSTER_NODE_REDIS: redis.url } });
    await untilHealth(b.url, (h) => h.cluster?.state === "ok" && h.cluster.nodes === 2);
    const hash = binaryId();
    const doomed = await joinedPeer(`${b.url.replace(/^http/, "ws")}/announce`, hash, { left: 0 });
    const scraper = await TestSocket.open(trackerUrl(a));
    const scrape = async () => {
      scraper.send({ action: "scrape", info_hash: hash });
      return (await scraper.next({ action: "scrape" })).files[hash];
    };
    expect(await scrape()).toMatchObject({ complete: 1 });
    b.proc.kill("SIGKILL");
    const killed = performance.now();
    while ((await scrape()).complete !== 0) {
      if (performance.now() - killed > TTL_MS + 2000) throw new Error("the dead node's peer stayed in its swarm");
      await Bun.sleep(100);
    }
    // Its peer, reconnecting to the live node with the same peer_id, is let in.
    const back = await trackerPeer(trackerUrl(a), doomed.peerId);
    back.announce(hash, { left: 0 });
    expect(await back.socket.next({ action: "announce" })).toMatchObject({ complete: 1, incomplete: 0 });
    back.socket.close();
    scraper.close();
  }, 20_000);
});
