// Yjs in Chromium through WS /y-webrtc, with the real yjs and y-webrtc packages,
// unchanged: two pages in separate browser contexts (so no BroadcastChannel
// between them) edit one Y.Text and each sees the other's edit over a WebRTC
// connection that y-webrtc negotiated through us; the same in a room with a
// password (signals sealed with AES-GCM), and with a token on the signaling URL.
// A page in another room, with a wrong password, or without the token sees nothing.
// (Two cluster nodes: ywebrtc-cluster.test.ts.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServer, type TestServer } from "../helpers/server.ts";
import { yUrl } from "../helpers/ywebrtc.ts";
import { chromiumOrSkip, closeAll, editTogether, openEditor, signalingConnected, textOf, useEditors, webrtcPeers } from "../helpers/ywebrtc-browser.ts";

const hasChromium = chromiumOrSkip();
useEditors();

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

  test("with --y-webrtc-token the client passes ?token= in its signaling URL; without it, it never connects", async () => {
    const token = "yjs-token-0123456789abcdef";
    const guarded = startServer({ yWebrtcTokens: [token] });
    try {
      const url = `${yUrl(guarded.url)}?token=${token}`;
      const editors = await editTogether(url, url, "guarded-doc");
      const stranger = await openEditor(yUrl(guarded.url), "guarded-doc");
      await Bun.sleep(1000);
      expect(await stranger.page.evaluate(() => (window as any).provider.signalingConns.some((c: any) => c.connected))).toBe(false);
      expect(await textOf(stranger)).toBe("");
      stranger.errors.length = 0; // the refused websocket is reported by the page
      await closeAll([...editors, stranger]);
    } finally {
      await guarded.close();
    }
  }, 60_000);
});
