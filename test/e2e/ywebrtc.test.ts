// Yjs in Chromium through WS /y-webrtc, with the real yjs and y-webrtc packages,
// unchanged: two pages in separate browser contexts (so no BroadcastChannel
// between them) edit one Y.Text and each sees the other's edit over a WebRTC
// connection that y-webrtc negotiated through us; the same in a room with a
// password (signals sealed with AES-GCM), and with the pages on two cluster
// nodes. A page in another room sees nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, launchChromium } from "../helpers/browser.ts";
import { startNodes } from "../helpers/cluster.ts";
import { redisOrSkip, startRedis } from "../helpers/redis.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { yUrl } from "../helpers/ywebrtc.ts";

function chromiumOrSkip(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === "true") throw new Error(`${CHROMIUM} is missing (Debian package chromium)`);
  console.warn("skipping y-webrtc browser tests: install the Debian package chromium");
  return false;
}

const hasChromium = chromiumOrSkip();
let browser: Browser;
/** Serves the page and the bundle of yjs + y-webrtc, on its own origin (loopback is a secure context: WebCrypto works). */
let pages: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  if (!hasChromium) return;
  const built = await Bun.build({ entrypoints: [join(import.meta.dir, "../helpers/ywebrtc-page-entry.ts")], target: "browser", format: "esm" });
  if (!built.success) throw new Error(`bundling yjs + y-webrtc failed: ${built.logs.join("\n")}`);
  const bundle = await built.outputs[0]!.text();
  pages = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    routes: {
      "/": new Response('<!doctype html><script type="module" src="/yjs.js"></script>', { headers: { "Content-Type": "text/html" } }),
      "/yjs.js": new Response(bundle, { headers: { "Content-Type": "text/javascript" } }),
    },
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  pages?.stop(true);
});

interface Editor {
  page: Page;
  errors: string[];
}

/** A page in a fresh browser context with a WebrtcProvider for `room` on `signaling`. */
async function openEditor(signaling: string, room: string, password?: string): Promise<Editor> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${pages.port}/`);
  await page.waitForFunction(() => (window as any).WebrtcProvider !== undefined);
  await page.evaluate(
    ({ signaling, room, password }) => {
      const w = window as any;
      const doc = new w.Y.Doc();
      w.text = doc.getText("shared");
      w.provider = new w.WebrtcProvider(room, doc, { signaling: [signaling], password, peerOpts: { config: { iceServers: [] } } });
    },
    { signaling, room, password },
  );
  return { page, errors };
}

/** Until the page's signaling socket is connected: its subscribe and announce went out. */
function signalingConnected(e: Editor): Promise<unknown> {
  return e.page.waitForFunction(() => (window as any).provider.signalingConns.some((c: any) => c.connected), undefined, { timeout: 10_000 });
}

/** Peers this page has a connected WebRTC connection with (BroadcastChannel peers are not counted). */
function webrtcPeers(e: Editor): Promise<number> {
  return e.page.evaluate(() => [...(window as any).provider.room.webrtcConns.values()].filter((c: any) => c.connected).length);
}

const insert = (e: Editor, at: number, what: string) => e.page.evaluate(({ at, what }) => (window as any).text.insert(at, what), { at, what });
const textOf = (e: Editor) => e.page.evaluate(() => (window as any).text.toString() as string);

/** Two pages edit one Y.Text; each sees both edits, over WebRTC between separate contexts. */
async function editTogether(urlA: string, urlB: string, room: string, password?: string): Promise<Editor[]> {
  const a = await openEditor(urlA, room, password);
  await signalingConnected(a);
  // Two providers announcing at the same instant can stall inside y-webrtc: the second starts after the first's announce.
  await Bun.sleep(200);
  const b = await openEditor(urlB, room, password);
  await signalingConnected(b);
  for (const e of [a, b]) await e.page.waitForFunction(() => [...(window as any).provider.room.webrtcConns.values()].some((c: any) => c.connected), undefined, { timeout: 15_000 });
  await insert(a, 0, "from A.");
  await insert(b, 0, "from B.");
  for (const e of [a, b]) await e.page.waitForFunction(() => ["from A.", "from B."].every((s) => (window as any).text.toString().includes(s)), undefined, { timeout: 10_000 });
  for (const e of [a, b]) {
    expect(await webrtcPeers(e)).toBe(1);
    expect(await e.page.evaluate(() => (window as any).provider.room.bcConns.size)).toBe(0);
    expect((await textOf(e)).length).toBe("from A.from B.".length);
  }
  return [a, b];
}

async function closeAll(editors: Editor[]): Promise<void> {
  for (const e of editors) {
    expect(e.errors).toEqual([]);
    await e.page.context().close();
  }
}

describe.skipIf(!hasChromium)("Yjs (y-webrtc) in Chromium through WS /y-webrtc", () => {
  let srv: TestServer;
  beforeAll(() => {
    srv = startServer();
  });
  afterAll(() => srv?.close());

  test("two browser contexts edit one Y.Text over WebRTC; a page in another room sees nothing", async () => {
    const other = await openEditor(yUrl(srv.url), "another-room");
    await signalingConnected(other);
    const editors = await editTogether(yUrl(srv.url), yUrl(srv.url), "shared-doc");
    await Bun.sleep(300);
    expect(await textOf(other)).toBe("");
    expect(await other.page.evaluate(() => (window as any).provider.room.webrtcConns.size)).toBe(0);
    await closeAll([...editors, other]);
  }, 60_000);

  test("the same in a room with a password", async () => {
    await closeAll(await editTogether(yUrl(srv.url), yUrl(srv.url), "sealed-doc", "correct horse battery staple"));
  }, 60_000);

  test("a page with the wrong password never joins", async () => {
    const room = "sealed-too";
    const [a, b] = await editTogether(yUrl(srv.url), yUrl(srv.url), room, "the right one");
    const wrong = await openEditor(yUrl(srv.url), room, "a wrong one");
    await signalingConnected(wrong);
    await Bun.sleep(1500);
    expect(await webrtcPeers(wrong)).toBe(0);
    expect(await textOf(wrong)).toBe("");
    // y-webrtc itself leaves the failed decryptions of signals sealed with another password unhandled.
    for (const e of [a!, b!, wrong]) e.errors.splice(0, Infinity, ...e.errors.filter((x) => !x.startsWith("OperationError")));
    await closeAll([a!, b!, wrong]);
  }, 60_000);
});

describe.skipIf(!hasChromium || !redisOrSkip())("Yjs (y-webrtc) in Chromium, one page on each of two cluster nodes", () => {
  test("two pages on two nodes edit one Y.Text over WebRTC", async () => {
    const redis = await startRedis();
    const nodes = await startNodes(redis.url, 2);
    try {
      await closeAll(await editTogether(yUrl(nodes[0]!.url), yUrl(nodes[1]!.url), "cluster-doc"));
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await redis.stop();
    }
  }, 60_000);
});
