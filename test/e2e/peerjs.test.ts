// The real `peerjs` client, unchanged, in Chromium pages of separate browser
// contexts, against this server: a DataConnection both ways (a chosen id and a
// server-given one), peer-unavailable, unavailable-id, a re-attach that opens
// (peerjs#1289), a call with Chromium's fake camera whose stream plays, and the
// same connection and call with the two peers on two cluster nodes (Redis, Postgres, S3).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { chromiumOrSkip, launchChromium } from "../helpers/browser.ts";
import { startNodes } from "../helpers/cluster.ts";
import { redisOrSkip, startRedis, type TestRedis } from "../helpers/redis.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { available, newSpot, storageServices } from "../helpers/storage.ts";

const PEERJS_CLIENT = new URL("../../node_modules/peerjs/dist/peerjs.min.js", import.meta.url).pathname;

const haveChromium = chromiumOrSkip();

let browser: Browser;
beforeAll(async () => {
  if (haveChromium) browser = await launchChromium(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]);
});
afterAll(() => browser?.close());

interface PeerState {
  id: string | null;
  opens: number;
  errors: string[];
  received: string[];
  /** The remote video's size and play time, once a call's stream plays. */
  video: { width: number; time: number } | null;
}

/**
 * Runs in a page: a Peer of the real client on `port` (`id` chosen, or the server's), which
 * answers data connections with a greeting and calls without a stream, and plays what it hears.
 */
function makePeer({ port, id, token }: { port: number; id?: string; token?: string }): Promise<string> {
  const w = window as any;
  const options = { host: "127.0.0.1", port, path: "/peerjs", secure: false, config: { iceServers: [] }, ...(token ? { token } : {}) };
  const peer = id ? new w.Peer(id, options) : new w.Peer(options);
  const state: PeerState = { id: null, opens: 0, errors: [], received: [], video: null };
  w.peer = peer;
  w.state = state;
  peer.on("connection", (conn: any) => {
    conn.on("data", (d: unknown) => state.received.push(String(d)));
    conn.on("open", () => conn.send(`hello back from ${peer.id}`));
  });
  peer.on("call", (call: any) => {
    call.answer();
    call.on("stream", (stream: MediaStream) => {
      const video = document.createElement("video");
      video.muted = true;
      video.srcObject = stream;
      document.body.append(video);
      void video.play();
      const look = () => (video.currentTime > 0 && video.videoWidth > 0 ? (state.video = { width: video.videoWidth, time: video.currentTime }) : setTimeout(look, 50));
      look();
    });
  });
  return new Promise((resolve, reject) => {
    peer.on("open", (openId: string) => {
      state.id = openId;
      state.opens++;
      resolve(openId);
    });
    peer.on("error", (e: { type: string }) => {
      state.errors.push(e.type);
      reject(new Error(e.type));
    });
  });
}

async function openPeerPage(port: number, id?: string, token?: string): Promise<{ page: Page; id: string }> {
  const page = await browser.newPage(); // a context of its own
  await page.goto(`http://127.0.0.1:${port}/health`);
  await page.addScriptTag({ path: PEERJS_CLIENT });
  return { page, id: await page.evaluate(makePeer, { port, id, token }) };
}

const stateOf = (page: Page): Promise<PeerState> => page.evaluate(() => (window as any).state);

async function waitFor(page: Page, done: (s: PeerState) => boolean, what: string, ms = 15_000): Promise<PeerState> {
  for (const until = Date.now() + ms; Date.now() < until; await Bun.sleep(50)) {
    const state = await stateOf(page);
    if (done(state)) return state;
  }
  throw new Error(`${what} within ${ms} ms; state: ${JSON.stringify(await stateOf(page)).slice(0, 500)}`);
}

/** `caller` connects to `calleeId`, sends a greeting, and both sides hear the other. */
async function dataBothWays(caller: Page, callee: Page, calleeId: string): Promise<void> {
  await caller.evaluate((to) => {
    const w = window as any;
    const conn = w.peer.connect(to);
    conn.on("open", () => conn.send(`hello from ${w.peer.id}`));
    conn.on("data", (d: unknown) => w.state.received.push(String(d)));
  }, calleeId);
  const [a, b] = await Promise.all([
    waitFor(caller, (s) => s.received.length > 0, "no data at the caller"),
    waitFor(callee, (s) => s.received.length > 0, "no data at the callee"),
  ]);
  expect(a.received).toEqual([`hello back from ${calleeId}`]);
  expect(b.received).toEqual([`hello from ${a.id}`]);
}

/** `caller` calls `calleeId` with the fake camera; the callee's video of it plays. */
async function callPlays(caller: Page, callee: Page, calleeId: string): Promise<void> {
  await caller.evaluate(async (to) => {
    const w = window as any;
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    w.call = w.peer.call(to, stream);
  }, calleeId);
  const s = await waitFor(callee, (st) => st.video !== null, "the remote stream never played");
  expect(s.video!.width).toBeGreaterThan(0);
}

describe.skipIf(!haveChromium)("the peerjs client on one node", () => {
  let srv: TestServer;
  let port: number;
  beforeAll(() => {
    srv = startServer({ peerjsExpireTimeoutMs: 1500 });
    port = srv.server.port;
  });
  afterAll(() => srv?.close());

  test("a DataConnection, messages both ways: one peer with a chosen id, one with the server's", async () => {
    const a = await openPeerPage(port, "alice");
    const b = await openPeerPage(port);
    expect(a.id).toBe("alice");
    expect(b.id).toMatch(/^[0-9a-f-]{36}$/);
    await dataBothWays(b.page, a.page, "alice");
    await Promise.all([a.page.close(), b.page.close()]);
  }, 40_000);

  test("peer-unavailable for an id nobody holds; unavailable-id for a taken one", async () => {
    const a = await openPeerPage(port, "lonely");
    await a.page.evaluate(() => {
      const w = window as any;
      w.peer.on("error", (e: { type: string }) => w.state.errors.push(e.type));
      w.peer.connect("nobody-holds-this");
    });
    await waitFor(a.page, (s) => s.errors.includes("peer-unavailable"), "no peer-unavailable");
    const thief = await openPeerPage(port, "lonely").catch((e: Error) => e);
    expect(thief).toBeInstanceOf(Error);
    expect((thief as Error).message).toContain("unavailable-id");
    await a.page.close();
  }, 40_000);

  test("a re-attach with the same id and token gets OPEN (peerjs#1289) and takes the id's traffic; disconnect + reconnect opens again", async () => {
    const stale = await openPeerPage(port, "phoenix", "tok-phoenix-1");
    const back = await openPeerPage(port, "phoenix", "tok-phoenix-1");
    expect(back.id).toBe("phoenix");
    const caller = await openPeerPage(port);
    await dataBothWays(caller.page, back.page, "phoenix");
    await back.page.evaluate(() => {
      const w = window as any;
      w.peer.disconnect();
      w.peer.reconnect();
    });
    await waitFor(back.page, (s) => s.opens === 2, "no second open after reconnect()");
    await Promise.all([stale.page.close(), back.page.close(), caller.page.close()]);
  }, 40_000);

  test("a MediaConnection with Chromium's fake camera: the remote stream plays", async () => {
    const a = await openPeerPage(port, "caller-cam");
    const b = await openPeerPage(port, "callee-cam");
    await callPlays(a.page, b.page, "callee-cam");
    await Promise.all([a.page.close(), b.page.close()]);
  }, 40_000);
});

// The nodes as the CLI runs a cluster: Redis between them, Postgres and S3 for the registry.
const services = haveChromium ? await storageServices() : { pg: null, s3: null };

describe.skipIf(!haveChromium || !redisOrSkip() || !available("postgres+s3", services))("the peerjs client across two cluster nodes (Redis, Postgres, S3)", () => {
  let redis: TestRedis;
  let nodes: TestServer[];
  beforeAll(async () => {
    redis = await startRedis();
    const spot = await newSpot("postgres+s3", services);
    nodes = await startNodes(redis.url, 2, {}, () => spot.open());
  });
  afterAll(async () => {
    await Promise.all((nodes ?? []).map((n) => n.close()));
    await redis?.stop();
  });

  test("a DataConnection and a call between a peer on node A and one on node B", async () => {
    const [a, b] = nodes.map((n) => n.server.port) as [number, number];
    const onA = await openPeerPage(a, "on-node-a");
    const onB = await openPeerPage(b);
    // One id space: node B refuses node A's id.
    const thief = await openPeerPage(b, "on-node-a").catch((e: Error) => e);
    expect((thief as Error).message).toContain("unavailable-id");
    await dataBothWays(onB.page, onA.page, "on-node-a");
    await callPlays(onA.page, onB.page, onB.id);
    await Promise.all([onA.page.close(), onB.page.close()]);
  }, 60_000);
});
