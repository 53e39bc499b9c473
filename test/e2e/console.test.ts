// The web console in Chromium: live numbers follow a real origin and session,
// a real signed pod is published by file input and opened, refusals read clearly,
// and the admin token lists and deletes pods.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { buildPod, manifestSpan, withManifest } from "../helpers/pods.ts";
import { startServer, tempDir, type TestServer } from "../helpers/server.ts";
import { offeringVisitor, registeredOrigin, type TestSocket } from "../helpers/ws-client.ts";

const ADMIN_TOKEN = "console-admin-token-0123456789";
const shots = tempDir("gemmapod-console-shots-");
let srv: TestServer;
let browser: Browser;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  srv = startServer({ adminToken: ADMIN_TOKEN });
  browser = await launchChromium();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await browser?.close();
  await srv?.close();
});

/** A console page that reports any CSP violation or script error as a failure. */
async function openConsole(url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || /Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  await page.goto(url + "/");
  await page.locator("#live-state", { hasText: "Live" }).waitFor({ timeout: 5000 });
  return { page, problems };
}

const field = (page: Page, key: string) => page.locator(`[data-field="${key}"]`);
const waitText = (page: Page, key: string, text: string) =>
  page.waitForFunction(([k, t]) => document.querySelector(`[data-field="${k}"]`)?.textContent === t, [key, text] as const, { timeout: 5000 });

test("live counts follow an origin registering and a session running", async () => {
  const { page, problems } = await openConsole(srv.url);
  expect(await field(page, "origins").textContent()).toBe("0");
  expect(await field(page, "sessionsStarted").textContent()).toBe("0");

  const podId = "console-live-pod";
  const origin = await registeredOrigin(srv.wsUrl, podId);
  sockets.push(origin);
  await waitText(page, "origins", "1");

  const visitor = await offeringVisitor(srv.wsUrl, origin, podId, "console-session-1");
  await waitText(page, "sessions", "1");
  await waitText(page, "sessionsStarted", "1");
  origin.send({ t: "answer", sessionId: "console-session-1", sdp: "v=0 answer" });
  await visitor.next({ t: "answer" });
  visitor.close();
  await waitText(page, "sessions", "0");
  await page.locator("#spark-summary", { hasText: "1 session started" }).waitFor({ timeout: 3000 });
  expect(await page.locator("#spark-line").getAttribute("points")).toMatch(/^\d+,[\d.]+( \d+,[\d.]+)*$/);

  origin.close();
  await waitText(page, "origins", "0");
  expect(problems).toEqual([]);
  await page.close();
}, 30_000);

/** Runs in the page: text elements whose colour against their backdrop is under 4.5:1 (WCAG AA). */
function lowContrast(): string[] {
  const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
  const luminance = ([r, g, b]: number[]) => {
    const lin = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
  };
  const backdrop = (el: Element | null): number[] => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] !== 0) return c;
    }
    return [255, 255, 255];
  };
  const bad: string[] = [];
  for (const el of document.querySelectorAll("h1, h2, h3, p, dt, dd, label, button, a, li, th, td, code, figcaption, span")) {
    if (!el.textContent?.trim() || !(el as HTMLElement).offsetParent) continue;
    const [fg, bg] = [luminance(rgb(getComputedStyle(el).color)), luminance(backdrop(el))];
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) bad.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
  }
  return bad;
}

test("is accessible: every control labelled, reachable by keyboard, text in sufficient contrast", async () => {
  const { page } = await openConsole(srv.url);
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll("input")].filter((i) => i.labels?.length === 0).map((i) => i.id));
  expect(unlabelled).toEqual([]);
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
  const reached = new Set<string>();
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    reached.add(await page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent || ""));
  }
  for (const id of ["pod-file", "upload-token", "lookup-id", "Look up", "admin-token", "admin-owner", "List pods"]) expect(reached).toContain(id);
  expect(await page.evaluate(lowContrast)).toEqual([]);
  await page.close();
}, 30_000);

test("publishes a real pod by file input, shows its URL, opens it, looks it up and deletes it as admin", async () => {
  const { page, problems } = await openConsole(srv.url);
  const pod = buildPod({ podId: "console-published", name: "Console Pod", signalUrl: srv.wsUrl });
  await page.setInputFiles("#pod-file", pod.path);
  const link = page.locator("#published-url");
  await link.waitFor({ timeout: 10_000 });
  const url = (await link.getAttribute("href"))!;
  expect(url).toMatch(new RegExp(`^${srv.url}/[A-Za-z0-9_-]{12}$`));
  expect(await link.textContent()).toBe(url);
  expect(await page.locator("#published-owner").textContent()).toBe(pod.key.publicKey);
  const result = (await page.locator("#publish-result").textContent())!;
  expect(result).toContain("Console Pod");
  expect(result).toContain(`${pod.bytes.byteLength.toLocaleString("en-US")} bytes`);
  await waitText(page, "pods", "1");

  // The link leads to the pod itself, served with its own policy.
  const opened = await browser.newPage();
  const response = await opened.goto(url);
  expect(response!.status()).toBe(200);
  expect(await response!.headerValue("content-security-policy")).toContain("'unsafe-inline'");
  expect(await opened.content()).toContain("__GEMMAPOD_MANIFEST_B64");
  await opened.close();

  // Look-up by URL: offline, then online once its origin (the manifest's pod id) registers.
  await page.fill("#lookup-id", url);
  await page.click("#lookup-form button[type=submit]");
  await expect(page.locator("#lookup-online").textContent()).resolves.toBe("offline");
  const origin = await registeredOrigin(srv.wsUrl, "console-published");
  sockets.push(origin);
  await page.keyboard.press("Enter"); // the form submits from the keyboard too
  await page.locator("#lookup-online", { hasText: "online" }).waitFor({ timeout: 3000 });
  expect(await page.locator("#lookup-result").textContent()).toContain("Console Pod");
  await page.screenshot({ path: join(shots, "console.png"), fullPage: true });

  // Admin: list this owner's pods, then delete the one published (two presses).
  await page.fill("#admin-token", ADMIN_TOKEN);
  await page.fill("#admin-owner", pod.key.publicKey);
  await page.click("#admin-form button[type=submit]");
  const id = url.slice(-12);
  const row = page.locator(`tr[data-pod="${id}"]`);
  await row.waitFor({ timeout: 3000 });
  expect(await page.evaluate(() => sessionStorage.getItem("gemmapod-signal.admin-token"))).toBe(ADMIN_TOKEN);
  expect(await page.evaluate(() => localStorage.length)).toBe(0);
  await row.locator("button").click();
  await page.locator("#admin-message", { hasText: "Confirm delete" }).waitFor();
  await row.locator("button").click();
  await page.locator("#admin-message", { hasText: `Deleted ${id}` }).waitFor({ timeout: 3000 });
  expect(await row.count()).toBe(0);
  expect((await fetch(url)).status).toBe(410);
  await waitText(page, "pods", "0");

  // A wrong token reads as a refusal, not a crash.
  await page.fill("#admin-token", "not-the-admin-token-at-all");
  await page.click("#admin-form button[type=submit]");
  await page.locator("#admin-message .error", { hasText: "admin token required" }).waitFor();
  expect(problems.filter((p) => !p.includes("401"))).toEqual([]);
  await page.close();
}, 40_000);

test("each refusal gets its own clear message: too large, bad signature, not allowed, rate limited", async () => {
  const allowed = buildPod({ podId: "console-allowed" });
  const stranger = buildPod({ podId: "console-stranger" });
  const guarded = startServer({ maxPodBytes: 1536 * 1024, maxBytesPerOwner: 1536 * 1024, allowedOwners: new Set([allowed.key.publicKey]), uploadsPerMinute: 4 });
  try {
    const { page } = await openConsole(guarded.url);
    const upload = async (name: string, buffer: Buffer) => {
      await page.setInputFiles("#pod-file", { name, mimeType: "text/html", buffer });
      return page.locator("#publish-result .error", { hasText: name }).textContent({ timeout: 5000 });
    };
    // Over the size limit: refused by the page itself, before any upload.
    expect(await upload("big.html", Buffer.alloc(2 * 1024 * 1024, "a"))).toBe("big.html: Too large: it is 2.0 MiB (2,097,152 bytes); this server accepts pods up to 1.5 MiB (1,572,864 bytes).");
    const { b64 } = manifestSpan(stranger.html);
    const tampered = withManifest(stranger.html, b64.slice(0, 40) + (b64[40] === "A" ? "B" : "A") + b64.slice(41));
    expect(await upload("tampered.html", Buffer.from(tampered))).toStartWith("tampered.html: Refused:");
    expect(await upload("stranger.html", Buffer.from(stranger.bytes))).toBe("stranger.html: Not allowed: pods signed by this owner key are not accepted here.");
    await page.setInputFiles("#pod-file", { name: "allowed.html", mimeType: "text/html", buffer: Buffer.from(allowed.bytes) });
    await page.locator("#publish-result .success").waitFor({ timeout: 5000 });
    // The server's own 413: this owner's quota of bytes is used up.
    expect(await upload("second.html", Buffer.from(allowed.bytes))).toStartWith("second.html: Too large: this owner key's pods would exceed its quota");
    expect(await upload("again.html", Buffer.from(allowed.bytes))).toMatch(/^again\.html: Rate limited: too many uploads from this address\. Try again in \d+ seconds?\.$/);
    await page.close();
  } finally {
    await guarded.close();
  }
}, 40_000);
