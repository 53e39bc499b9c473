// A real pod page, unchanged, served by us and opened in Chromium, negotiates a
// WebRTC data channel with an origin through our broker (across a cluster:
// test/cluster/three-nodes.test.ts).
import { afterAll, beforeAll, test } from "bun:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { openPodChannel } from "../helpers/pod-channel.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let srv: TestServer;
let browser: Browser;

beforeAll(async () => {
  srv = startServer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

test("a real pod page opens a dartc.v0 data channel to its origin through the broker", () => openPodChannel(browser, srv, srv), 40_000);
