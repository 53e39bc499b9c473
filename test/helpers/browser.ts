// Debian's Chromium, driven by playwright-core, set up for loopback-only tests.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { serviceMissing } from "./ci.ts";

export const CHROMIUM = "/usr/bin/chromium";

/** For tests that may skip without a browser: one line when it is missing, under CI a failure. */
export function chromiumOrSkip(): boolean {
  return existsSync(CHROMIUM) || serviceMissing(`${CHROMIUM} is missing: install the Debian package chromium (.ci/run does)`);
}

/** `extraArgs`: e.g. a fake camera (--use-fake-device-for-media-stream --use-fake-ui-for-media-stream). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
      "--no-first-run", "--disable-component-update", "--disable-sync",
      // No network here: host candidates on loopback must carry the connection.
      "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
      ...extraArgs,
    ],
  });
}
