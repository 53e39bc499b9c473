// A real coturn (Debian `coturn`) for TURN tests, on a random loopback port,
// checking TURN REST API credentials (use-auth-secret) as production would.
import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINDING_REQUEST, encodeStun } from "../../src/stun/message.ts";
import { freeUdpPort, UdpClient } from "./udp-client.ts";
import { serviceMissing } from "./ci.ts";

export const TURNSERVER = "/usr/bin/turnserver";
export const TURN_REALM = "gemmapod.test";

export interface Coturn {
  port: number;
  secret: string;
  url: string;
  stop(): Promise<void>;
}

/** Whether coturn is installed; when not, one line saying so, and under CI a failure. */
export function coturnOrSkip(): boolean {
  return existsSync(TURNSERVER) || serviceMissing(`${TURNSERVER} is missing: install the Debian package coturn (.ci/run does)`);
}

export async function startCoturn(secret = "coturn-test-secret-0123456789"): Promise<Coturn> {
  const dir = mkdtempSync(join(tmpdir(), "gemmapod-coturn-"));
  const port = await freeUdpPort();
  const relayBase = 40_000 + Math.floor(Math.random() * 20_000);
  const log = join(dir, "turn.log");
  const proc: Subprocess = Bun.spawn(
    [TURNSERVER, "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1", "--listening-port", String(port),
      "--min-port", String(relayBase), "--max-port", String(relayBase + 200),
      "--use-auth-secret", "--static-auth-secret", secret, "--realm", TURN_REALM,
      "--allow-loopback-peers", "--no-tls", "--no-dtls", "--no-cli", "--no-tcp-relay",
      "--pidfile", join(dir, "turn.pid"), "--log-file", log, "--simple-log", "--no-stdout-log"],
    { stdout: "ignore", stderr: "pipe" },
  );
  const stop = async () => {
    proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(2000).then(() => proc.kill("SIGKILL"))]);
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready once it answers a STUN Binding request on its port.
  const probe = await UdpClient.open();
  try {
    await probe.ask(encodeStun({ type: BINDING_REQUEST, transactionId: crypto.getRandomValues(new Uint8Array(12)), attributes: [] }, false), port, 10_000);
  } catch {
    await stop();
    throw new Error(`coturn did not answer on udp/${port}: ${existsSync(log) ? readFileSync(log, "utf8").slice(-800) : "no log"}`);
  } finally {
    probe.close();
  }
  return { port, secret, url: `turn:127.0.0.1:${port}`, stop };
}
