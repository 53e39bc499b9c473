// Issue 11 item 2: a proxy in front of a server without --trust-proxy is reported once, and on /health.
import { beforeEach, expect, test } from "bun:test";
import { isPrivateAddress } from "../../src/http/proxy-warning.ts";
import { Logger } from "../../src/log/logger.ts";
import { spawnServer } from "../helpers/cli.ts";
import { withServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/ws-client.ts";

const FORWARDED = { "X-Forwarded-For": "203.0.113.7" };
let lines: string[] = [];
const logger = () => new Logger({ level: "info", format: "text", write: (line) => lines.push(line) });

beforeEach(() => {
  lines = [];
});

const health = async (srv: { url: string }) => (await (await fetch(`${srv.url}/health`)).json()) as { warnings: string[]; [k: string]: unknown };
const proxyWarnings = () => lines.filter((line) => line.includes("--trust-proxy"));

test("HTTP requests with X-Forwarded-For from loopback: one warning naming --trust-proxy, listed on /health", async () => {
  await withServer({ logger: logger() }, async (srv) => {
    expect((await health(srv)).warnings).toEqual([]);
    for (let i = 0; i < 20; i++) await (await fetch(`${srv.url}/health`, { headers: FORWARDED })).arrayBuffer();
    await (await fetch(`${srv.url}/pods`, { method: "POST", headers: FORWARDED })).arrayBuffer();
    const { warnings, ok, origins, sessions, registry } = await health(srv);
    expect({ ok, origins, sessions, registry }).toEqual({ ok: true, origins: [], sessions: 0, registry: "memory" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("--trust-proxy");
    expect(warnings[0]).toContain("X-Forwarded-For");
    expect(proxyWarnings()).toHaveLength(1);
  });
});

test("a websocket upgrade with X-Forwarded-For from loopback is noticed too", async () => {
  await withServer({ logger: logger() }, async (srv) => {
    const sockets = Array.from({ length: 3 }, () => new TestSocket(srv.wsUrl, { headers: FORWARDED }));
    await Promise.all(sockets.map((s) => s.opened));
    for (const s of sockets) s.ws.close();
    expect((await health(srv)).warnings).toEqual([expect.stringContaining("--trust-proxy")]);
    expect(proxyWarnings()).toHaveLength(1);
  });
});

test("no warning with --trust-proxy, nor without X-Forwarded-For", async () => {
  await withServer({ trustProxy: true, logger: logger() }, async (srv) => {
    await (await fetch(`${srv.url}/health`, { headers: FORWARDED })).arrayBuffer();
    expect((await health(srv)).warnings).toEqual([]);
  });
  await withServer({ logger: logger() }, async (srv) => {
    for (let i = 0; i < 5; i++) await (await fetch(`${srv.url}/health`)).arrayBuffer();
    expect((await health(srv)).warnings).toEqual([]);
  });
  expect(proxyWarnings()).toHaveLength(0);
});

test.each([
  ["127.0.0.1", true],
  ["::1", true],
  ["::ffff:127.0.0.1", true],
  ["10.1.2.3", true],
  ["172.16.0.1", true],
  ["172.32.0.1", false],
  ["192.168.1.10", true],
  ["100.64.0.1", true],
  ["fd12:3456::1", true],
  ["fe80::1", true],
  ["8.8.8.8", false],
  ["::ffff:8.8.8.8", false],
  ["2001:db8::1", false],
])("%s is a private address: %p", (address, expected) => {
  expect(isPrivateAddress(address)).toBe(expected);
});

test("the CLI logs the warning once per process, however many requests carry X-Forwarded-For", async () => {
  const server = await spawnServer([]);
  try {
    for (let i = 0; i < 10; i++) await (await fetch(`${server.url}/health`, { headers: FORWARDED })).arrayBuffer();
    expect((await health(server)).warnings).toHaveLength(1);
  } finally {
    await server.stop("SIGTERM");
  }
  expect(server.output().split("\n").filter((line) => line.includes("--trust-proxy"))).toHaveLength(1);
});
