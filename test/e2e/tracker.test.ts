// The real clients, unchanged, in Chromium (separate browser contexts) with gemmapod-signal as
// their only WebSocket tracker: Trystero's torrent strategy (two peers in a room see each other
// and exchange a message) and WebTorrent (one page seeds random bytes, another downloads them,
// compared by SHA-256). Each on one node and with the two peers on two cluster nodes (Redis).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { chromiumOrSkip, launchChromium } from "../helpers/browser.ts";
import { redisOrSkip } from "../helpers/redis.ts";
import { trackerForFile, twoTrackerNodes } from "../helpers/tracker.ts";

const noChromium = !chromiumOrSkip();

let browser: Browser;
let pages: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  if (noChromium) return;
  browser = await launchChromium();
  const trystero = await Bun.build({ entrypoints: [Bun.resolveSync("@trystero-p2p/torrent", import.meta.dir)], target: "browser", format: "esm" });
  if (!trystero.success) throw new Error(`bundling Trystero failed: ${trystero.logs.join("\n")}`);
  const trysteroJs = await trystero.outputs[0]!.text();
  const webtorrentJs = Bun.file(Bun.resolveSync("webtorrent/dist/webtorrent.min.js", import.meta.dir));
  const js = { headers: { "Content-Type": "text/javascript" } };
  // The pages' own origin: http://127.0.0.1 is a secure context (WebCrypto).
  pages = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    routes: {
      "/": new Response("<!doctype html><title>tracker test</title>", { headers: { "Content-Type": "text/html" } }),
      "/trystero.js": new Response(trysteroJs, js),
      "/webtorrent.js": () => new Response(webtorrentJs, js),
    },
  });
});
afterAll(async () => {
  await browser?.close();
  pages?.stop(true);
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    const w = window as any;
    w.pcLog = [];
    const Native = w.RTCPeerConnection;
    w.RTCPeerConnection = class extends Native {
      constructor(config: RTCConfiguration) {
        super(config);
        const t0 = performance.now();
        this.addEventListener("connectionstatechange", () => w.pcLog.push(`${Math.round(performance.now() - t0)} ${this.connectionState}`));
        this.addEventListener("signalingstatechange", () => w.pcLog.push(`${Math.round(performance.now() - t0)} sig ${this.signalingState}`));
      }
    };
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`http://127.0.0.1:${pages.port}/`);
  return page;
}

/** Runs in a page: joins Trystero room `room` through `tracker` only; `window.got` collects messages, `window.joined` peer ids. */
async function trysteroJoin({ base, tracker, room }: { base: string; tracker: string; room: string }): Promise<string> {
  const w = window as any;
  const { joinRoom, selfId } = await import(`${base}/trystero.js`);
  const r = joinRoom({ appId: "gemmapod-signal-test", relayConfig: { urls: [tracker] }, rtcConfig: { iceServers: [] } }, room);
  w.joined = [];
  w.got = [];
  const chat = r.makeAction("chat");
  chat.onMessage = (data: string, ctx: { peerId: string }) => w.got.push(`${ctx.peerId}:${data}`);
  r.onPeerJoin = (id: string) => {
    w.joined.push(id);
    void chat.send(`hello from ${selfId}`, { target: id });
  };
  return selfId;
}

async function trysteroPair(trackerA: string, trackerB: string): Promise<void> {
  const [a, b] = await Promise.all([newPage(), newPage()]);
  const base = `http://127.0.0.1:${pages.port}`;
  const room = `room-${crypto.randomUUID()}`;
  const [idA, idB] = await Promise.all([a.evaluate(trysteroJoin, { base, tracker: trackerA, room }), b.evaluate(trysteroJoin, { base, tracker: trackerB, room })]);
  await a.waitForFunction((id) => (window as any).joined.includes(id), idB, { timeout: 20_000 });
  await b.waitForFunction((id) => (window as any).joined.includes(id), idA, { timeout: 20_000 });
  await b.waitForFunction((m) => (window as any).got.includes(m), `${idA}:hello from ${idA}`, { timeout: 10_000 });
  await a.waitForFunction((m) => (window as any).got.includes(m), `${idB}:hello from ${idB}`, { timeout: 10_000 });
  await Promise.all([a.context().close(), b.context().close()]);
}

/** Runs in a page: seeds `size` random bytes through `tracker` only; resolves with the magnet and the bytes' SHA-256. */
async function webtorrentSeed({ base, tracker, size }: { base: string; tracker: string; size: number }): Promise<{ magnet: string; sha: string }> {
  const { default: WebTorrent } = await import(`${base}/webtorrent.js`);
  const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, utPex: false });
  (window as any).client = client;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  const sha = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
  const log: string[] = ((window as any).log = []);
  const magnet = await new Promise<string>((resolve) =>
    client.seed(new File([bytes], "random.bin"), { announce: [tracker] }, (t: any) => {
      t.on("warning", (e: Error) => log.push(`warning ${e.message}`));
      t.on("wire", () => log.push("wire"));
      resolve(t.magnetURI);
    }),
  );
  return { magnet, sha };
}

/** Runs in a page: downloads `magnet` through `tracker` only; resolves with the SHA-256 of what arrived. */
async function webtorrentFetch({ base, tracker, magnet }: { base: string; tracker: string; magnet: string }): Promise<string> {
  const { default: WebTorrent } = await import(`${base}/webtorrent.js`);
  const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, utPex: false });
  (window as any).client = client;
  const bytes = await new Promise<ArrayBuffer>((resolve, reject) => {
    client.on("error", reject);
    const log: string[] = ((window as any).log = []);
    const t = client.add(magnet, { announce: [tracker] });
    t.on("warning", (e: Error) => log.push(`warning ${e.message}`));
    t.on("wire", () => log.push("wire"));
    t.on("metadata", () => log.push("metadata"));
    t.on("done", () => resolve(t.files[0].arrayBuffer()));
  });
  return Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function webtorrentPair(trackerA: string, trackerB: string): Promise<void> {
  const [seeder, leecher] = await Promise.all([newPage(), newPage()]);
  const base = `http://127.0.0.1:${pages.port}`;
  const { magnet, sha } = await seeder.evaluate(webtorrentSeed, { base, tracker: trackerA, size: 300_000 });
  expect(magnet).toContain(encodeURIComponent(trackerA));
  // Should it hang, say where: the tracker's counters and what each client sees.
  const report = setTimeout(() => void whereItHangs([...new Set([trackerA, trackerB])], seeder, leecher), 20_000);
  const got = await leecher.evaluate(webtorrentFetch, { base, tracker: trackerB, magnet }).finally(() => clearTimeout(report));
  expect(got).toBe(sha);
  await Promise.all([seeder.context().close(), leecher.context().close()]);
}

async function whereItHangs(trackers: string[], ...clients: Page[]): Promise<void> {
  for (const tracker of trackers) {
    const metrics = await (await fetch(tracker.replace(/^ws/, "http").replace(/\/announce$/, "/metrics"))).text();
    console.log(tracker, metrics.split("\n").filter((l) => /^gemmapod_signal_tracker_(announces|relayed|undelivered|refused)/.test(l) && !l.endsWith(" 0")).join(", "));
  }
  for (const page of clients) {
    console.log(await page.evaluate(() => JSON.stringify({ pc: (window as any).pcLog, log: (window as any).log, torrents: (window as any).client.torrents.map((t: any) => ({ peers: t.numPeers, wires: t.wires.length, ready: t.ready, progress: t.progress })) })));
  }
}

/**
 * WebTorrent retries only at its next announce. Under load here a pair sometimes stays in ICE
 * "connecting" for good (Chromium's own state, both sides, whatever tracker relayed the SDP); at
 * the default 120 s that is past the test's time, at the shortest interval the clients retry.
 */
const RETRY_SOON = { trackerIntervalS: 10 };

describe.skipIf(noChromium)("one node", () => {
  const tracker = trackerForFile(RETRY_SOON);
  test("Trystero: two peers in one room see each other join and exchange a message", () => trysteroPair(tracker.url(), tracker.url()), 40_000);
  test("WebTorrent: a page seeds random bytes, another downloads them byte-identical", () => webtorrentPair(tracker.url(), tracker.url()), 60_000);
});

describe.skipIf(noChromium || !redisOrSkip())("two cluster nodes on one Redis", () => {
  const nodes = twoTrackerNodes(RETRY_SOON);
  test("Trystero: the two peers, one on each node, see each other and exchange a message", () => trysteroPair(...nodes()), 40_000);
  test("WebTorrent: seeder on one node, downloader on the other, byte-identical", () => webtorrentPair(...nodes()), 60_000);
});
