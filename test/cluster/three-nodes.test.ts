// Three nodes on one Redis, one Postgres and one S3 server, as a cluster is run: every
// feature reaches across nodes — /signal (in Chromium too), pods, Rondevu long polls,
// /.webrtc rooms — and a killed node's room members are announced gone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as ed from "@noble/ed25519";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { spawnServer, type RunningCli } from "../helpers/cli.ts";
import { startNodes, untilHealth } from "../helpers/cluster.ts";
import { enterRoom, type TestPeer } from "../helpers/peers.ts";
import { openPodChannel } from "../helpers/pod-channel.ts";
import { buildPod } from "../helpers/pods.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";
import type { TestServer } from "../helpers/server.ts";
import { available, newSpot, storageServices } from "../helpers/storage.ts";
import { registeredOrigin, TestSocket } from "../helpers/ws-client.ts";

const TTL_MS = 2000;
const NODE = join(import.meta.dir, "../helpers/cluster-node.ts");
const services = await storageServices();
const cand = { candidate: "candidate:1 1 udp 2122260223 10.0.0.1 51 typ host", sdpMid: "0", sdpMLineIndex: 0 };

describe.skipIf(!redisOrSkip() || !available("postgres+s3", services))("three nodes on Redis, Postgres and S3", () => {
  let redis: TestRedis;
  let a: TestServer, b: TestServer, c: TestServer;
  let browser: Browser;
  const spawned: RunningCli[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const spot = await newSpot("postgres+s3", services, { hitFlushMs: 50 });
    [a, b, c] = await startNodes(redis.url, 3, { clusterTtlMs: TTL_MS }, () => spot.open());
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    for (const node of spawned) node.proc.kill("SIGKILL");
    await Promise.all([a, b, c].map((n) => n?.close()));
    await redis?.stop();
  });

  test("a visitor on A and an origin on B negotiate; the origin re-registering on C replaces B's (4001)", async () => {
    const origin = await registeredOrigin(b.wsUrl, "pod-three");
    const visitor = await TestSocket.open(a.wsUrl);
    visitor.send({ t: "offer", podId: "pod-three", sessionId: "v1", sdp: "v=0 offer" });
    expect(await origin.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "v1", sdp: "v=0 offer" });
    origin.send({ t: "answer", sessionId: "v1", sdp: "v=0 answer" });
    expect(await visitor.next({ t: "answer" })).toEqual({ t: "answer", sessionId: "v1", sdp: "v=0 answer" });
    visitor.send({ t: "candidate", podId: "pod-three", sessionId: "v1", candidate: cand });
    expect(await origin.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "v1", candidate: cand });
    origin.send({ t: "candidate", sessionId: "v1", candidate: cand });
    expect(await visitor.next({ t: "candidate" })).toEqual({ t: "candidate", sessionId: "v1", candidate: cand });

    const moved = await registeredOrigin(c.wsUrl, "pod-three");
    expect((await origin.closed).code).toBe(4001);
    visitor.send({ t: "offer", podId: "pod-three", sessionId: "v2", sdp: "again" });
    expect(await moved.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "v2", sdp: "again" });
    visitor.close();
    moved.close();
  });

  test("Chromium: a real pod served by A opens dartc.v0 to its origin on B", () => openPodChannel(browser, a, b), 40_000);

  test("a pod uploaded to A is served byte-identical by B and C; deleted by its owner through C, 410 on A", async () => {
    const pod = buildPod({ podId: "three-nodes-pod", name: "Three" });
    const { id } = await (await fetch(`${a.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } })).json();
    const page = async (srv: TestServer) => {
      const res = await fetch(`${srv.url}/${id}`, { headers: { "Accept-Encoding": "identity" } });
      return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
    };
    expect(await page(a)).toEqual({ status: 200, bytes: pod.bytes });
    expect(await page(b)).toEqual({ status: 200, bytes: pod.bytes });
    expect(await page(c)).toEqual({ status: 200, bytes: pod.bytes });
    const seconds = Math.floor(Date.now() / 1000);
    const sig = await ed.signAsync(new TextEncoder().encode(`DELETE /${id} ${seconds}`), Buffer.from(pod.key.secretKey, "hex"));
    const authorization = `GemmaPod-Ed25519 ${pod.key.publicKey}.${seconds}.${Buffer.from(sig).toString("base64url")}`;
    expect((await fetch(`${c.url}/${id}`, { method: "DELETE", headers: { Authorization: authorization } })).status).toBe(200);
    expect((await page(a)).status).toBe(410);
    expect((await page(b)).status).toBe(410);
  });

  test("Rondevu: an offer made on A, answered on B, wakes a long poll waiting on C, long before its 10 s wait", async () => {
    const post = (srv: TestServer, path: string, body: unknown) =>
      fetch(`${srv.url}/rondevu${path}`, { method: "POST", headers: { "Content-Type": "application/json", Origin: "https://app.example" }, body: JSON.stringify(body) }).then((r) => r.json());
    const { code } = await post(a, "/chat/offer", { info: "i", offer: "o" });
    const polled = post(c, "/poll", { code, side: "offerer", wait: 10 }).then((body) => ({ body, at: performance.now() }));
    await Bun.sleep(300); // the poll is waiting by now (were it not, it would find the answer at once: the test holds)
    const answeredAt = performance.now();
    expect(await post(b, "/answer", { code, side: "answerer", answer: "ans" })).toEqual({ success: true });
    const { body, at } = await polled;
    expect(body).toEqual({ answer: "ans", answerCandidates: [], candidateCount: 0 });
    // Woken, not timed out: well under half the wait even on a loaded machine.
    expect(at - answeredAt).toBeLessThan(5000);
    // A candidate added on A wakes the answerer's poll on B.
    const answerer = post(b, "/poll", { code, side: "answerer", since: 0, wait: 10 }).then((body) => ({ body, at: performance.now() }));
    await Bun.sleep(300);
    const addedAt = performance.now();
    await post(a, "/answer", { code, side: "offerer", candidate: "c1" });
    const second = await answerer;
    expect(second.body).toEqual({ offer: "o", offerCandidates: ["c1"], candidateCount: 1 });
    expect(second.at - addedAt).toBeLessThan(5000);
  });

  test("/.webrtc: a room spanning three nodes has full lists, joins, leaves and relay", async () => {
    const p1 = await enterRoom(a, "span");
    const p2 = await enterRoom(b, "span");
    const p3 = await enterRoom(c, "span");
    expect(p1.entered.peers).toEqual([]);
    expect(p2.entered.peers).toEqual([p1.key.id]);
    expect([...(p3.entered.peers as string[])].sort()).toEqual([p1.key.id, p2.key.id].sort());
    expect(await p1.socket.next({ type: "peer-joined" })).toMatchObject({ peer: p2.key.id });
    expect(await p1.socket.next({ type: "peer-joined" })).toMatchObject({ peer: p3.key.id });
    expect(await p2.socket.next({ type: "peer-joined" })).toMatchObject({ peer: p3.key.id });

    p1.socket.send({ type: "offer", to: p3.key.id, sdp: "v=0 from A" });
    expect(await p3.socket.next({ type: "offer" })).toEqual({ type: "offer", from: p1.key.id, sdp: "v=0 from A" });
    p3.socket.send({ type: "answer", to: p1.key.id, sdp: "v=0 from C" });
    expect(await p1.socket.next({ type: "answer" })).toEqual({ type: "answer", from: p3.key.id, sdp: "v=0 from C" });
    // p2's first offer is one sent to it after: the one to p3 did not reach it.
    p1.socket.send({ type: "offer", to: p2.key.id, sdp: "v=0 marker" });
    expect(await p2.socket.next({ type: "offer" })).toMatchObject({ sdp: "v=0 marker" });

    p2.socket.close();
    for (const p of [p1, p3]) expect(await p.socket.next({ type: "peer-left" })).toMatchObject({ peer: p2.key.id });
    const p4 = await enterRoom(b, "span");
    expect([...(p4.entered.peers as string[])].sort()).toEqual([p1.key.id, p3.key.id].sort());
    for (const p of [p1, p3, p4]) p.socket.close();
  });

  test("/.webrtc: everyone in the room hears peer-left for each member of a killed node, within the TTL + 1 s", async () => {
    const d = await spawnServer(["--cluster-ttl", `${TTL_MS}ms`], { command: [process.execPath, NODE], env: { CLUSTER_NODE_REDIS: redis.url } });
    spawned.push(d);
    await untilHealth(d.url, (h) => h.cluster?.state === "ok");
    const here: TestPeer[] = [await enterRoom(a, "doomed"), await enterRoom(c, "doomed")];
    const there = [await enterRoom(d as unknown as TestServer, "doomed"), await enterRoom(d as unknown as TestServer, "doomed")];
    for (const p of here) for (let i = 0; i < there.length; i++) await p.socket.next({ type: "peer-joined" });
    const killed = performance.now();
    d.proc.kill("SIGKILL");
    for (const p of here) {
      const left = [await p.socket.next({ type: "peer-left" }, TTL_MS + 2000), await p.socket.next({ type: "peer-left" }, TTL_MS + 2000)];
      expect(left.map((m) => m.peer).sort()).toEqual(there.map((t) => t.key.id).sort());
    }
    expect(performance.now() - killed).toBeLessThan(TTL_MS + 1000);
    // The room is whole again without them.
    const late = await enterRoom(b, "doomed");
    expect([...(late.entered.peers as string[])].sort()).toEqual(here.map((p) => p.key.id).sort());
    for (const p of [...here, late]) p.socket.close();
  }, 20_000);
});
