// HTTPS and WSS straight from the executable, with certificates openssl makes
// here, and a SIGHUP that swaps in a renewed certificate without a restart.
import { afterAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { CLI, runCommand, spawnServer, type RunningCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/server.ts";
import { TestSocket } from "../helpers/ws-client.ts";

const dir = tempDir("gemmapod-tls-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function selfSigned(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const run = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", `/CN=${name}`,
      "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert],
    { stderr: "pipe" },
  );
  if (run.exitCode !== 0) throw new Error(`openssl failed: ${run.stderr.toString()}`);
  return { cert, key };
}

/** SHA-256 fingerprint of the certificate a fresh handshake gets. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on("error", reject);
  });
}

const fingerprintOf = (certFile: string) => new X509Certificate(readFileSync(certFile)).fingerprint256;

async function waitForLine(server: RunningCli, text: string, from: number): Promise<string> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const line = server.output().slice(from).split("\n").find((l) => l.includes(text));
    if (line) return line;
    await Bun.sleep(20);
  }
  throw new Error(`no log line with ${JSON.stringify(text)}: ${server.output().slice(from)}`);
}

describe("TLS", () => {
  const a = selfSigned("cert-a");
  const b = selfSigned("cert-b");
  const live = { cert: join(dir, "live.crt"), key: join(dir, "live.key") };
  copyFileSync(a.cert, live.cert);
  copyFileSync(a.key, live.key);

  test("serves HTTPS and WSS, and SIGHUP swaps the certificate while sockets carry on", async () => {
    const server = await spawnServer(["--tls-cert", live.cert, "--tls-key", live.key]);
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const port = Number(new URL(server.url).port);
      const ca = readFileSync(a.cert, "utf8");
      // Verified against the certificate itself, not with verification off.
      const health = await fetch(`${server.url}/health`, { tls: { ca } });
      expect(await health.json()).toMatchObject({ ok: true });
      expect((await fetch(`http://127.0.0.1:${port}/health`).catch((e) => e)) instanceof Error).toBe(true);

      const wss = `wss://127.0.0.1:${port}/signal`;
      const wsOptions = { tls: { ca } } as { headers?: Record<string, string> };
      const origin = await TestSocket.open(wss, wsOptions);
      origin.send({ t: "register", podId: "tls-pod" });
      await origin.next({ t: "registered" });
      const visitor = await TestSocket.open(wss, wsOptions);
      visitor.send({ t: "offer", podId: "tls-pod", sessionId: "t1", sdp: "o" });
      expect(await origin.next({ t: "offer" })).toEqual({ t: "offer", sessionId: "t1", sdp: "o" });
      expect(await servedFingerprint(port)).toBe(fingerprintOf(a.cert));

      // Renewal: new files in place, then SIGHUP.
      copyFileSync(b.cert, live.cert);
      copyFileSync(b.key, live.key);
      let mark = server.output().length;
      server.proc.kill("SIGHUP");
      expect(await waitForLine(server, "TLS certificate reloaded", mark)).toContain("CN=cert-b");
      expect(await servedFingerprint(port)).toBe(fingerprintOf(b.cert));
      // Sockets opened before the reload still relay, to and from sockets opened after it.
      const later = await TestSocket.open(wss, { tls: { ca: readFileSync(b.cert, "utf8") } } as typeof wsOptions);
      later.send({ t: "offer", podId: "tls-pod", sessionId: "t2", sdp: "o2" });
      expect(await origin.next({ t: "offer", sessionId: "t2" })).toEqual({ t: "offer", sessionId: "t2", sdp: "o2" });
      origin.send({ t: "answer", sessionId: "t2", sdp: "a2" });
      expect(await later.next({ t: "answer" })).toEqual({ t: "answer", sessionId: "t2", sdp: "a2" });
      origin.send({ t: "answer", sessionId: "t1", sdp: "a1" });
      expect(await visitor.next({ t: "answer" })).toEqual({ t: "answer", sessionId: "t1", sdp: "a1" });

      // A broken renewal is refused and the current certificate stays.
      writeFileSync(live.cert, "-----BEGIN CERTIFICATE-----\nnot base64\n");
      mark = server.output().length;
      server.proc.kill("SIGHUP");
      expect(await waitForLine(server, "TLS reload failed", mark)).toContain("still serving the previous certificate");
      expect(await servedFingerprint(port)).toBe(fingerprintOf(b.cert));
      copyFileSync(a.cert, live.cert); // a's certificate with b's key: they must belong together
      mark = server.output().length;
      server.proc.kill("SIGHUP");
      expect(await waitForLine(server, "TLS reload failed", mark)).toContain("does not belong to the certificate");
      expect(await servedFingerprint(port)).toBe(fingerprintOf(b.cert));

      // The healthcheck speaks https to loopback, self-signed or not.
      const probe = await runCommand([process.execPath, CLI, "healthcheck", "--port", String(port), "--hostname", "127.0.0.1", "--tls-cert", live.cert, "--tls-key", live.key]);
      expect(probe).toMatchObject({ code: 0, out: `healthy: https://127.0.0.1:${port}/health\n` });
      const byUrl = await runCommand([process.execPath, CLI, "healthcheck", "--url", `https://localhost:${port}`]);
      expect(byUrl).toMatchObject({ code: 0 });
      for (const s of [origin, visitor, later]) s.close();
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  test("half a TLS configuration or a missing file stops the server with the reason", async () => {
    const half = await runCommand([process.execPath, CLI, "--tls-cert", a.cert]);
    expect(half.code).toBe(2);
    expect(half.err).toContain("--tls-cert and --tls-key go together");
    const missing = await runCommand([process.execPath, CLI, "--port", "0", "--tls-cert", join(dir, "nope.crt"), "--tls-key", a.key]);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain("cannot read --tls-cert");
    expect(missing.out).toContain("ENOENT");
  });
});
