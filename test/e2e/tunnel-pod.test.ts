// A pod whose only transport is `direct` through the tunnel, served by the broker and
// opened in Chromium, chats with an OpenAI-compatible server on the owner's machine;
// the reply streams into the pod word by word.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { startTunnel, type TunnelClient } from "../../src/tunnel/client.ts";
import { buildPod } from "../helpers/pods.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { newKey, uniqueName } from "../tunnel/harness.ts";

const CHROMIUM = "/usr/bin/chromium";
let srv: TestServer;
let browser: Browser;
let local: ReturnType<typeof Bun.serve>;
let tunnel: TunnelClient;
const seen: { method: string; path: string; body: any }[] = [];
let releaseRest!: () => void;
const rest = new Promise<void>((r) => (releaseRest = r));
let restSent = false;

const delta = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  srv = startServer();
  // What Ollama or llama.cpp's server does for stream: true.
  local = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      seen.push({ method: req.method, path: url.pathname, body: req.method === "POST" ? await req.json() : null });
      if (url.pathname !== "/v1/chat/completions") return new Response("not found", { status: 404 });
      const enc = new TextEncoder();
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(enc.encode(delta("Hello")));
            c.enqueue(enc.encode(delta(" from")));
            await rest;
            restSent = true;
            for (const w of [" your", " own", " machine."]) {
              c.enqueue(enc.encode(delta(w)));
              await Bun.sleep(20);
            }
            c.enqueue(enc.encode("data: [DONE]\n\n"));
            c.close();
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
});
afterAll(async () => {
  tunnel?.close();
  await browser?.close();
  local?.stop(true);
  await srv?.close();
});

test("a direct-only pod chats through the tunnel with a local OpenAI-compatible server, word by word", async () => {
  const name = uniqueName("pod");
  tunnel = startTunnel({ server: srv.url, name, to: `http://127.0.0.1:${local.port}`, key: await newKey() });
  const baseUrl = await tunnel.ready;
  expect(baseUrl).toBe(`${srv.url}/tunnel/${name}`);
  const pod = buildPod({ transportToml: `[transport.direct]\nbase_url = ${JSON.stringify(baseUrl)}` });
  const upload = await fetch(`${srv.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
  expect(upload.status).toBe(200);
  const { url } = await upload.json();

  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(String(error)));
  await page.goto(url);
  await page.getByText("via direct").waitFor({ timeout: 15_000 });
  await page.locator("form input").fill("Say hello");
  await page.getByRole("button", { name: "Send" }).click();

  // The first words are on screen while the local server still holds the rest.
  await page.getByText("Hello from", { exact: false }).waitFor({ timeout: 15_000 });
  expect(restSent).toBe(false);
  releaseRest();
  await page.getByText("Hello from your own machine.").waitFor({ timeout: 15_000 });

  const chat = seen.find((s) => s.path === "/v1/chat/completions")!;
  expect(chat.method).toBe("POST");
  expect(chat.body.stream).toBe(true);
  expect(chat.body.messages.at(-1)).toMatchObject({ role: "user", content: "Say hello" });
  expect(problems).toEqual([]);
}, 45_000);
