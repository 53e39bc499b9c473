// Two Chromium pages import /client/peer.js, sign in with their own WebCrypto
// keys, see each other, and open a data channel negotiated through /.webrtc;
// a third page in another room hears of neither. With coturn installed, the same
// pair connects again with iceTransportPolicy "relay", through TURN alone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { coturnOrSkip, startCoturn, type Coturn } from "../helpers/coturn.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { until } from "../helpers/until.ts";
import { scrape, value } from "../helpers/metrics.ts";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

interface PageState {
  me: string;
  firstPeers: string[];
  joined: string[];
  left: string[];
  received: string[];
  iceServers: unknown[];
  candidateTypes: string[];
}

/** Runs in a page: joins `room` with a fresh key; answers offers; `window.call(key)` makes one. */
async function joinRoom({ base, room, relayOnly }: { base: string; room: string; relayOnly: boolean }): Promise<string> {
  const w = window as any;
  const { connectPeer, generatePeerKey } = await import(`${base}/client/peer.js`);
  const peer = await connectPeer({ url: base, room, key: await generatePeerKey() });
  const state: PageState = { me: peer.publicKey, firstPeers: [...peer.peers], joined: [], left: [], received: [], iceServers: peer.iceServers, candidateTypes: [] };
  w.state = state;
  peer.on("peer-joined", (e: { peer: string }) => state.joined.push(e.peer));
  peer.on("peer-left", (e: { peer: string }) => state.left.push(e.peer));
  const connections = new Map<string, { pc: RTCPeerConnection; queued: RTCIceCandidateInit[] }>();
  const connectionTo = (key: string) => {
    let c = connections.get(key);
    if (c) return c;
    const pc = new RTCPeerConnection({ iceServers: peer.iceServers, iceTransportPolicy: relayOnly ? "relay" : "all" });
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      state.candidateTypes.push(e.candidate.type ?? "?");
      peer.candidate(key, e.candidate.toJSON());
    };
    connections.set(key, (c = { pc, queued: [] }));
    return c;
  };
  const opened = (channel: RTCDataChannel, greeting: string) => {
    channel.onmessage = (e) => state.received.push(String(e.data));
    const send = () => channel.send(greeting);
    if (channel.readyState === "open") send();
    else channel.onopen = send;
  };
  peer.on("offer", async (m: { from: string; sdp: string }) => {
    const c = connectionTo(m.from);
    c.pc.ondatachannel = (e) => opened(e.channel, `hello back from ${state.me.slice(0, 8)}`);
    await c.pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
    for (const cand of c.queued.splice(0)) await c.pc.addIceCandidate(cand);
    await c.pc.setLocalDescription(await c.pc.createAnswer());
    peer.answer(m.from, c.pc.localDescription!.sdp);
  });
  peer.on("answer", async (m: { from: string; sdp: string }) => {
    const c = connectionTo(m.from);
    await c.pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
    for (const cand of c.queued.splice(0)) await c.pc.addIceCandidate(cand);
  });
  peer.on("candidate", async (m: { from: string; candidate: RTCIceCandidateInit }) => {
    const c = connectionTo(m.from);
    if (c.pc.remoteDescription) await c.pc.addIceCandidate(m.candidate);
    else c.queued.push(m.candidate);
  });
  w.call = async (key: string) => {
    const c = connectionTo(key);
    opened(c.pc.createDataChannel("chat"), `hello from ${state.me.slice(0, 8)}`);
    await c.pc.setLocalDescription(await c.pc.createOffer());
    peer.offer(key, c.pc.localDescription!.sdp);
  };
  return peer.publicKey;
}

const stateOf = (page: Page): Promise<PageState> => page.evaluate(() => (window as any).state);

async function waitFor(page: Page, done: (s: PageState) => boolean, what: string, ms = 15_000): Promise<PageState> {
  for (const until = Date.now() + ms; Date.now() < until; await Bun.sleep(50)) {
    const state = await stateOf(page);
    if (done(state)) return state;
  }
  throw new Error(`${what} within ${ms} ms; state: ${JSON.stringify(await stateOf(page)).slice(0, 500)}`);
}

async function openPage(srv: TestServer, room: string, relayOnly = false): Promise<{ page: Page; key: string }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Any page of the server is a same-origin home for the module; a foreign origin would do too (CORS *).
  await page.goto(`${srv.url}/health`);
  const key = await page.evaluate(joinRoom, { base: srv.url, room, relayOnly });
  (page as any).errors = errors;
  return { page, key };
}

async function connectPair(srv: TestServer, room: string, relayOnly: boolean) {
  const a = await openPage(srv, room, relayOnly);
  const b = await openPage(srv, room, relayOnly);
  await a.page.evaluate((key) => (window as any).call(key), b.key);
  const [sa, sb] = await Promise.all([
    waitFor(a.page, (s) => s.received.length > 0, "no message on the data channel at the caller"),
    waitFor(b.page, (s) => s.received.length > 0, "no message on the data channel at the callee"),
  ]);
  return { a, b, sa, sb };
}

describe("two browsers through /.webrtc", () => {
  test("see each other, open a data channel through the relay, exchange messages; another room sees neither", async () => {
    const srv = startServer();
    try {
      const other = await openPage(srv, "elsewhere");
      const { a, b, sa, sb } = await connectPair(srv, "e2e", false);
      expect(sa.firstPeers).toEqual([]);
      expect(sa.joined).toEqual([b.key]);
      expect(sb.firstPeers).toEqual([a.key]);
      expect(sb.received).toEqual([`hello from ${a.key.slice(0, 8)}`]);
      expect(sa.received).toEqual([`hello back from ${b.key.slice(0, 8)}`]);
      await b.page.close();
      await waitFor(a.page, (s) => s.left.includes(b.key), "no peer-left after the tab closed");
      const lonely = await stateOf(other.page);
      expect([lonely.firstPeers, lonely.joined, lonely.left]).toEqual([[], [], []]);
      for (const p of [a, other]) expect((p.page as any).errors).toEqual([]);
      await Promise.all([a.page.close(), other.page.close()]);
    } finally {
      await srv.close();
    }
  }, 40_000);

  test("the README's two-tab example, as printed, opens a data channel between two tabs", async () => {
    const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();
    const example = /\*\*Two tabs, one data channel\.\*\*[\s\S]*?<script type="module">\n([\s\S]*?)<\/script>/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const srv = startServer();
    try {
      const script = example!.replaceAll("https://pods.example.com", srv.url);
      const tabs = await Promise.all([browser.newPage(), browser.newPage()]);
      const heard = tabs.map(() => [] as string[]);
      tabs.forEach((tab, i) => tab.on("console", (m) => heard[i]!.push(m.text())));
      for (const [i, tab] of tabs.entries()) {
        await tab.goto(`${srv.url}/health`);
        await tab.addScriptTag({ type: "module", content: script });
        // The first tab is in the room before the second arrives.
        await until(`tab ${i + 1} in the room`, async () => value(await scrape(srv.url), "gemmapod_signal_peers_online") === i + 1, 15_000);
      }
      for (let waited = 0; heard.some((h) => !h.some((t) => t.startsWith("hi from "))) && waited < 15_000; waited += 50) await Bun.sleep(50);
      expect(heard.map((h) => h.filter((t) => t.startsWith("hi from ")).length)).toEqual([1, 1]);
      await Promise.all(tabs.map((t) => t.close()));
    } finally {
      await srv.close();
    }
  }, 40_000);

  test.skipIf(!coturnOrSkip())("with iceTransportPolicy relay, through coturn with the credentials the hub handed out", async () => {
    const turn: Coturn = await startCoturn();
    const srv = startServer({ turnUrls: [turn.url], turnSecret: turn.secret });
    try {
      const { a, b, sa, sb } = await connectPair(srv, "relayed", true);
      expect(sa.iceServers).toEqual([{ urls: [turn.url], username: expect.stringContaining(`:${a.key}`), credential: expect.any(String) }]);
      expect(new Set([...sa.candidateTypes, ...sb.candidateTypes])).toEqual(new Set(["relay"]));
      expect(sb.received).toEqual([`hello from ${a.key.slice(0, 8)}`]);
      await Promise.all([a.page.close(), b.page.close()]);
    } finally {
      await srv.close();
      await turn.stop();
    }
  }, 40_000);
});
