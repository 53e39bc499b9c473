// Yjs pages in Chromium for the y-webrtc browser tests: the real yjs and y-webrtc,
// bundled and served on their own loopback origin (a secure context: WebCrypto
// works), one browser context per page, so no BroadcastChannel joins them.
import { afterAll, beforeAll, expect } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, launchChromium } from "./browser.ts";

export { chromiumOrSkip } from "./browser.ts";

let browser: Browser;
/** Serves the page and the bundle of yjs + y-webrtc, on its own origin (loopback is a secure context: WebCrypto works). */
let pages: ReturnType<typeof Bun.serve>;

/** Call at the top level of a test file that opens editors: bundles, serves and launches for the file. */
export function useEditors(): void {
  beforeAll(startPages);
  afterAll(async () => {
    await browser?.close();
    pages?.stop(true);
  });
}

async function startPages(): Promise<void> {
  if (!existsSync(CHROMIUM)) return;
  const built = await Bun.build({ entrypoints: [join(import.meta.dir, "ywebrtc-page-entry.ts")], target: "browser", format: "esm" });
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
}

export interface Editor {
  page: Page;
  errors: string[];
}

/** A page in a fresh browser context with a WebrtcProvider for `room` on `signaling`. */
export async function openEditor(signaling: string, room: string, password?: string): Promise<Editor> {
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
export function signalingConnected(e: Editor): Promise<unknown> {
  return e.page.waitForFunction(() => (window as any).provider.signalingConns.some((c: any) => c.connected), undefined, { timeout: 10_000 });
}

/** Peers this page has a connected WebRTC connection with (BroadcastChannel peers are not counted). */
export function webrtcPeers(e: Editor): Promise<number> {
  return e.page.evaluate(() => [...(window as any).provider.room.webrtcConns.values()].filter((c: any) => c.connected).length);
}

export const insert = (e: Editor, at: number, what: string) => e.page.evaluate(({ at, what }) => (window as any).text.insert(at, what), { at, what });
export const textOf = (e: Editor) => e.page.evaluate(() => (window as any).text.toString() as string);

/** Two pages edit one Y.Text; each sees both edits, over WebRTC between separate contexts. */
export async function editTogether(urlA: string, urlB: string, room: string, password?: string): Promise<Editor[]> {
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

export async function closeAll(editors: Editor[]): Promise<void> {
  for (const e of editors) {
    expect(e.errors).toEqual([]);
    await e.page.context().close();
  }
}

