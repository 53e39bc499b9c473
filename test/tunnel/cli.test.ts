// `gemmapod-signal tunnel …` as an owner runs it: a key is made if missing, the URL
// printed, requests logged, drops survived, SIGTERM exits 0.
import { expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CLI, runCommand } from "../helpers/cli.ts";
import { startServer, tempDir, type TestServer } from "../helpers/server.ts";
import { uniqueName } from "./harness.ts";
import { portBelowEphemeralRange } from "../helpers/ports.ts";

async function waitFor(read: () => string, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(read());
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in output: ${read()}`);
    await Bun.sleep(25);
  }
}

/** A broker on a port it can have again after a restart (see helpers/ports.ts). */
function brokerOnStablePort(): { broker: TestServer; port: number } {
  for (let attempt = 1; ; attempt++) {
    const port = portBelowEphemeralRange();
    try {
      return { broker: startServer({ port }), port };
    } catch (error) {
      if (attempt === 20) throw error; // taken by some other listener: try another
    }
  }
}

test("the tunnel command creates its key, prints its URL, logs requests, reconnects, and exits 0 on SIGTERM", async () => {
  let { broker, port } = brokerOnStablePort();
  const local = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => new Response(`local ${new URL(req.url).pathname}`) });
  const keyPath = join(tempDir(), "owner.key");
  const name = uniqueName("cli");
  const proc = Bun.spawn([process.execPath, CLI, "tunnel", "--server", broker.url, "--name", name, "--to", `http://127.0.0.1:${local.port}`, "--key", keyPath], { stdout: "pipe", stderr: "pipe" });
  let out = "";
  let err = "";
  void (async () => {
    for await (const c of proc.stdout) out += new TextDecoder().decode(c);
  })();
  void (async () => {
    for await (const c of proc.stderr) err += new TextDecoder().decode(c);
  })();
  try {
    await waitFor(() => out, /created a new key in .*owner\.key/);
    const [, url] = await waitFor(() => out, /is live at (\S+)/);
    expect(url).toBe(`${broker.url}/tunnel/${name}`);
    const key = JSON.parse(readFileSync(keyPath, "utf8"));
    expect(key.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);

    expect(await (await fetch(`${url}/hello?x=1`)).text()).toBe("local /hello");
    await waitFor(() => out, /GET \/hello\?x=1 200 [\d.]+ ms/);

    // The broker restarts on the same port: the client comes back by itself.
    await broker.close();
    await waitFor(() => err, /tunnel dropped/);
    broker = startServer({ port });
    await waitFor(() => out.split("is live at").length > 2 ? "again" : "", /again/, 15_000);
    expect(await (await fetch(`${url}/back`)).text()).toBe("local /back");

    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill("SIGKILL");
    local.stop(true);
    await broker.close();
  }
  expect(existsSync(keyPath)).toBe(true);
}, 30_000);

test("bad tunnel options exit 2 with a one-line reason", async () => {
  const { code, err } = await runCommand([process.execPath, CLI, "tunnel", "--server", "http://x", "--name", "Bad Name", "--to", "http://y", "--key", "k"]);
  expect(code).toBe(2);
  expect(err.trim()).toBe("gemmapod-signal: --name must be 1-63 characters a-z, 0-9 and -");
});
