// The benchmark's own instruments, checked against real servers on loopback:
// if they miscount, every figure in docs/benchmarks.md is wrong. No timing here.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBareRelay } from "../scripts/bench/bare-relay.ts";
import { startClusterNode, startRedis, untilClusterOk } from "../scripts/bench/cluster-nodes.ts";
import { measureTunnelAcross } from "../scripts/bench/cluster-tunnel.ts";
import { ResponseReader, runHttpLoad } from "../scripts/bench/http-load.ts";
import { openRawWs } from "../scripts/bench/raw-ws.ts";
import { runPeersLoad } from "../scripts/bench/peers-load.ts";
import { runBusyOrigin } from "../scripts/bench/busy-origin-load.ts";
import { runRelayLoad } from "../scripts/bench/relay-load.ts";
import type { RunningServer } from "../scripts/bench/servers.ts";
import { RELAYED_PER_SESSION } from "../scripts/bench/signal-payloads.ts";
import { redisOrSkip } from "./helpers/redis.ts";
import { startServer } from "./helpers/server.ts";

const bare = startBareRelay({ port: 0, hostname: "127.0.0.1" });
const bareWs = `ws://127.0.0.1:${bare.port}/signal`;
// Load from one loopback address stands for many clients: lift per-address limits, as the bench does.
const ours = startServer({ wsConnectRate: 1_000_000, wsMessageRate: 1_000_000, maxSessionsPerPod: 1_000_000, peerMessageRate: 1_000_000 });
afterAll(async () => {
  bare.stop(true);
  await ours.close();
});

describe("relay load generator", () => {
  for (const [name, wsUrl] of [
    ["the bare relay", bareWs],
    ["our server", ours.wsUrl],
  ] as const) {
    test(`completes every session against ${name}, counting each relayed frame once`, async () => {
      const r = await runRelayLoad({ wsUrl, mode: "sessions", origins: 2, concurrency: 4, warmupSessions: 4, maxSessions: 40, seconds: 20, serverPid: process.pid });
      expect(r.firstFailure).toBeUndefined();
      expect(r.sessions).toBe(40);
      expect(r.relayedMessages).toBe(40 * RELAYED_PER_SESSION);
      expect(r.latencyP99Ms).toBeGreaterThanOrEqual(r.latencyP50Ms);
      // Read from /proc in 10 ms ticks: a run of ~70 ms on a busy machine may read 0.
      expect(r.serverCpuMs).toBeGreaterThanOrEqual(0);
    });
  }

  test("keeps long-lived sessions bouncing candidates both ways", async () => {
    const r = await runRelayLoad({ wsUrl: ours.wsUrl, mode: "trickle", origins: 2, concurrency: 4, warmupSessions: 0, maxSessions: 0, seconds: 0.3 });
    expect(r.firstFailure).toBeUndefined();
    expect(r.sessions).toBe(4);
    expect(r.relayedMessages).toBeGreaterThan(100);
  });
});

describe("peers load generator", () => {
  for (const [name, url, signs] of [
    ["the bare relay", `http://127.0.0.1:${bare.port}`, false],
    ["our server", ours.url, true],
  ] as const) {
    test(`against ${name}: pairs keep negotiating, and every join notice of a crowd is counted once`, async () => {
      const relay = await runPeersLoad({ url, mode: "relay", pairs: 2, peers: 0, seconds: 0.3, signs });
      expect(relay.relayedMessages).toBeGreaterThan(20); // more than two rounds, even on a loaded box
      const presence = await runPeersLoad({ url, mode: "presence", pairs: 0, peers: 30, seconds: 0, signs, serverPid: process.pid });
      expect(presence.relayedMessages).toBe((30 * 29) / 2);
      expect(presence.serverCpuMs).toBeNumber(); // read from /proc: 10 ms ticks, so a short run may read 0
    });
  }
});

describe("busy-origin load generator", () => {
  test("runs every offered session to its end against our server with default limits", async () => {
    const defaults = startServer({ wsConnectRate: 1_000_000 });
    try {
      const r = await runBusyOrigin({ wsUrl: defaults.wsUrl, rate: 40, seconds: 0.5, warmupSeconds: 0.1, maxInFlight: 10 });
      expect(r.firstFailure).toBeUndefined();
      expect([r.offered, r.sessions, r.failures, r.originClosed]).toEqual([20, 20, 0, undefined]);
    } finally {
      await defaults.close();
    }
  });

  test("counts the sessions that fail", async () => {
    const narrow = startServer({ wsConnectRate: 1_000_000, maxSessionsPerPod: 1 });
    try {
      // 100 visitors in 50 ms overlap, and a pod may negotiate one session at a time.
      const r = await runBusyOrigin({ wsUrl: narrow.wsUrl, rate: 2000, seconds: 0.05, warmupSeconds: 0, maxInFlight: 20 });
      expect(r.failures).toBeGreaterThan(0);
      expect(r.sessions + r.failures).toBe(100);
      expect(r.firstFailure).toMatch(/pod busy/);
    } finally {
      await narrow.close();
    }
  });
});

test("raw websocket client registers an origin from another 127.x source address", async () => {
  const got: string[] = [];
  let onText: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (onText = resolve));
  const ws = await openRawWs({
    host: "127.0.0.1",
    port: ours.server.port,
    path: "/signal",
    localAddress: "127.0.0.2",
    onText: (text) => {
      if (JSON.parse(text).t === "challenge") return;
      got.push(text);
      onText();
    },
    onClose: () => {},
  });
  ws.sendText(JSON.stringify({ t: "register", podId: "raw-origin-1" }));
  await arrived;
  expect(JSON.parse(got[0]!)).toEqual({ t: "registered", podId: "raw-origin-1" });
  expect(ours.server.origins()).toContain("raw-origin-1");
  ws.destroy();
});

describe("HTTP load generator", () => {
  const body = "x".repeat(70_000);
  const http = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) =>
      new URL(req.url).pathname === "/chunked"
        ? new Response(
            new ReadableStream({
              start(c) {
                for (let i = 0; i < 7; i++) c.enqueue(new TextEncoder().encode(body.slice(i * 10_000, (i + 1) * 10_000)));
                c.close();
              },
            }),
          )
        : new Response(body),
  });
  afterAll(() => http.stop(true));

  test("reads Content-Length and chunked responses split anywhere", () => {
    const response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: br\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n";
    const next = "HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n";
    const bytes = new TextEncoder().encode(response + next);
    for (const split of [1, 2, 7, 64]) {
      const reader = new ResponseReader();
      const done: { status: number; encoding: string; end: number }[] = [];
      for (let at = 0; at < bytes.length; at += split) {
        let piece = bytes.subarray(at, Math.min(bytes.length, at + split));
        let base = at;
        for (;;) {
          const used = reader.feed(piece);
          if (used === -1) break;
          done.push({ status: reader.status, encoding: reader.contentEncoding, end: base + used });
          piece = piece.subarray(used);
          base += used;
          if (piece.length === 0) break;
        }
      }
      expect(done).toEqual([
        { status: 200, encoding: "br", end: response.length },
        { status: 304, encoding: "identity", end: response.length + next.length },
      ]);
    }
  });

  for (const path of ["/fixed", "/chunked"]) {
    test(`counts every ${path.slice(1)} response and its bytes on the wire`, async () => {
      const r = await runHttpLoad({ host: "127.0.0.1", port: http.port!, path, headers: {}, connections: 3, seconds: 20, maxRequests: 30 });
      expect(r.error).toBeUndefined();
      expect(r.requests).toBe(30);
      expect(r.statuses).toEqual({ "200": 30 });
      // The body plus framing and headers, but not a whole second response.
      expect(r.bytesPerResponse).toBeGreaterThan(body.length);
      expect(r.bytesPerResponse).toBeLessThan(body.length + 1000);
    });
  }
});

describe.skipIf(!redisOrSkip())("cluster suite's nodes and tunnel phase", () => {
  test("two library-path nodes join one Redis, and a tunnel on B is measured from B, from A and directly", async () => {
    const logs = mkdtempSync(join(tmpdir(), "bench-cluster-"));
    const redis = await startRedis(logs);
    const nodes: RunningServer[] = [];
    try {
      nodes.push(await startClusterNode(redis.url, join(logs, "a")), await startClusterNode(redis.url, join(logs, "b")));
      const [a, b] = nodes as [RunningServer, RunningServer];
      await untilClusterOk(a.url, 2);
      await untilClusterOk(b.url, 2);
      const run = await measureTunnelAcross(a, b, join(logs, "owner.key"), { transfers: 1, small: 20 });
      for (const path of ["one", "two", "direct"] as const) {
        expect(run.down[path]).toBeGreaterThan(0); // each transfer was checked to be 20 MB
        expect(run.p99[path]).toBeGreaterThanOrEqual(run.p50[path]);
      }
      expect(run.nodeCpuPerMiB.two).toBeGreaterThan(0); // A and B both carried the across downloads
    } finally {
      for (const n of nodes) await n.stop();
      await redis.stop();
      rmSync(logs, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("tracker load generator", () => {
  test("relays offers and answers through our tracker and the bare one, and measures idle memory", async () => {
    const { runTrackerLoad } = await import("../scripts/bench/tracker-load.ts");
    const { startBareTracker } = await import("../scripts/bench/bare-tracker.ts");
    const floor = startBareTracker({ port: 0, hostname: "127.0.0.1" });
    const tracker = startServer({ wsConnectRate: 1_000_000, trackerAnnounceBudget: 1_000_000 });
    try {
      for (const url of [`ws://127.0.0.1:${floor.port}/announce`, `${tracker.url.replace(/^http/, "ws")}/announce`]) {
        const relay = await runTrackerLoad({ url, mode: "relay", swarms: 2, peers: 6, connections: 0, seconds: 0.3 });
        expect(relay.failures).toBe(0);
        expect(relay.relayedMessages).toBeGreaterThan(20); // offers and answers, a few rounds in each swarm
        const idle = await runTrackerLoad({ url, mode: "idle", swarms: 0, peers: 0, connections: 50, seconds: 0, serverPid: process.pid });
        expect(idle.failures).toBe(0);
        expect(idle.bytesPerConnection).toBeNumber();
      }
    } finally {
      floor.stop(true);
      await tracker.close();
    }
  }, 30_000);
});
