// --max-connections-per-address: a flood from one address is stopped at the cap with a clear
// 429, a socket that closes gives its place back, --trust-proxy counts the forwarded address,
// and a realistic burst from one busy address (an office behind one NAT) passes on the defaults.
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { rawUpgrade } from "../helpers/raw-upgrade.ts";

setDefaultTimeout(60_000);

let srv: TestServer | undefined;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const ws of clients.splice(0)) ws.close();
  await srv?.close();
  srv = undefined;
});

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    clients.push(ws);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`${url} refused`));
  });
}

const port = (s: TestServer) => Number(new URL(s.url).port);
const bodyOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));

test("a flood from one address is refused at the default cap with a JSON 429, and a closed socket gives its place back", async () => {
  const cap = DEFAULT_CONFIG.maxConnectionsPerAddress;
  expect(cap).toBe(1000);
  // A connect rate high enough that the per-address cap, not the rate, is what stops the flood.
  srv = startServer({ wsConnectRate: 10_000 });
  const opened = await Promise.all(Array.from({ length: cap }, () => openSocket(srv!.wsUrl)));
  const refused = await rawUpgrade(port(srv), "/.webrtc");
  await Bun.sleep(50);
  expect(refused.status).toBe(429);
  expect(refused.received()).toMatch(/retry-after: 5/i);
  expect(bodyOf(refused.received())).toEqual({ error: `too many open websockets from this address (limit ${cap})` });
  refused.socket.destroy();
  opened[0]!.close();
  await Bun.sleep(200);
  const again = await rawUpgrade(port(srv), "/signal");
  expect(again.status).toBe(101);
  again.socket.destroy();
});

test("behind --trust-proxy the forwarded address is what is counted", async () => {
  srv = startServer({ trustProxy: true, maxConnectionsPerAddress: 3 });
  const from = (ip: string) => rawUpgrade(port(srv!), "/signal", { "X-Forwarded-For": `10.9.9.9, ${ip}` });
  const first = await Promise.all([from("203.0.113.1"), from("203.0.113.1"), from("203.0.113.1")]);
  expect(first.map((u) => u.status)).toEqual([101, 101, 101]);
  await Bun.sleep(50);
  const fourth = await from("203.0.113.1");
  expect(fourth.status).toBe(429);
  const other = await from("203.0.113.2");
  expect(other.status).toBe(101);
  for (const u of [...first, fourth, other]) u.socket.destroy();
});

test("a burst of 300 sockets from one address, at the pace a busy office opens them, all pass on the defaults", async () => {
  srv = startServer();
  const base = srv.url.replace(/^http/, "ws");
  const paths = ["/signal", "/.webrtc?room=office", "/.tunnel"];
  const opened: Promise<WebSocket>[] = [];
  for (let i = 0; i < 300; i++) {
    opened.push(openSocket(`${base}${paths[i % paths.length]}`));
    // 40 a second: inside --ws-connect-rate (50/s, bursts of 100).
    await Bun.sleep(25);
  }
  const sockets = await Promise.all(opened);
  expect(sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length).toBe(300);
});
