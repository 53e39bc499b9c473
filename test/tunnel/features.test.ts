// Websockets through the tunnel, names across restarts, per-tunnel subdomains.
import { expect, test } from "bun:test";
import { SqliteRegistry } from "../../src/registry/sqlite.ts";
import { startTunnel } from "../../src/tunnel/client.ts";
import { buildPod } from "../helpers/pods.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { newKey, tunnelled, uniqueName } from "./harness.ts";
import { until } from "../helpers/until.ts";

test("a websocket through the tunnel echoes both ways until the visitor closes", async () => {
  let localClosed: number | undefined;
  const t = await tunnelled(
    (req, srv) => (srv.upgrade(req, { headers: { "sec-websocket-protocol": "chat" } }) ? undefined : new Response("no upgrade", { status: 400 })),
    {
      websocket: {
        message: (ws, m) => ws.send(typeof m === "string" ? `echo ${m}` : m),
        close: (_ws, code) => void (localClosed = code),
      },
    },
  );
  try {
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/live`, ["chat"]);
    ws.binaryType = "arraybuffer";
    const received: (string | number[])[] = [];
    ws.onmessage = (e) => received.push(typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)]);
    await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
    expect(ws.protocol).toBe("chat");
    ws.send("hello");
    ws.send(new Uint8Array([0, 1, 255]));
    await until("both echoes", () => received.length >= 2);
    expect(received).toEqual(["echo hello", [0, 1, 255]]);
    ws.close(1000, "bye");
    await until("the local server hears the close", () => localClosed !== undefined);
    expect(localClosed).toBe(1000);
  } finally {
    await t.close();
  }
});

test("a refused upgrade comes back as the local server's answer", async () => {
  const t = await tunnelled(() => new Response("no sockets here", { status: 404 }));
  try {
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/x`);
    const code = await new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)));
    expect(code).not.toBe(1000);
    expect((await fetch(`${t.url}/x`)).status).toBe(404);
  } finally {
    await t.close();
  }
});

test("a name held by one key is refused to another and kept across a restart with --registry sqlite", async () => {
  const dataDir = tempDir();
  const owner = await newKey();
  const name = uniqueName("persist");
  const local = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("mine") });
  const first = startServer({ registry: new SqliteRegistry({ dataDir }) });
  const a = startTunnel({ server: first.url, name, to: `http://127.0.0.1:${local.port}`, key: owner });
  await a.ready;
  a.close();
  await first.close();

  const second = startServer({ registry: new SqliteRegistry({ dataDir }), port: 0 });
  try {
    const intruder = startTunnel({ server: second.url, name, to: `http://127.0.0.1:${local.port}`, key: await newKey() });
    await expect(intruder.ready).rejects.toThrow("belongs to another key");
    const back = startTunnel({ server: second.url, name, to: `http://127.0.0.1:${local.port}`, key: owner });
    await back.ready;
    expect(await (await fetch(`${second.url}/tunnel/${name}/`)).text()).toBe("mine");
    back.close();
  } finally {
    local.stop(true);
    await second.close();
  }
});

test("--tunnel-domain serves <name>.<domain> as its own origin, with CORS for the broker's pods", async () => {
  const t = await tunnelled(async (req) => new Response(`sub ${new URL(req.url).pathname}`), {
    broker: { tunnelDomain: "tunnels.test" },
  });
  // Without --public-url the broker's own origin is taken to be https://<domain>.
  try {
    expect(t.url).toBe(`http://${t.name}.tunnels.test`);
    const r = await fetch(`${t.broker.url}/v1/chat/completions`, { headers: { host: `${t.name}.tunnels.test`, origin: "https://tunnels.test" } });
    expect(await r.text()).toBe("sub /v1/chat/completions");
    expect(r.headers.get("content-security-policy")).toBeNull();
    expect(r.headers.get("access-control-allow-origin")).toBe("https://tunnels.test");
    const preflight = await fetch(`${t.broker.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: { host: `${t.name}.tunnels.test`, origin: "https://tunnels.test", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toBe("content-type");
    // Other origins get no CORS from the broker.
    const other = await fetch(`${t.broker.url}/`, { headers: { host: `${t.name}.tunnels.test`, origin: "https://evil.test" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    // The broker's own host is unaffected, and the pods it serves may connect to tunnel subdomains.
    expect((await fetch(`${t.broker.url}/health`)).status).toBe(200);
    const pod = buildPod();
    const { url } = await (await fetch(`${t.broker.url}/pods`, { method: "POST", body: pod.bytes, headers: { "content-type": "text/html" } })).json();
    expect((await fetch(url)).headers.get("content-security-policy")).toContain("connect-src 'self' https://*.tunnels.test ");
  } finally {
    await t.close();
  }
});

test("a local server that is down is a 502 naming it, and the client logs the request", async () => {
  const srv = startServer();
  const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("gone") });
  const port = closed.port;
  closed.stop(true);
  const logs: { method: string; path: string; status: number }[] = [];
  const client = startTunnel({ server: srv.url, name: uniqueName("down"), to: `http://127.0.0.1:${port}`, key: await newKey(), onRequest: (r) => logs.push(r) });
  try {
    const url = await client.ready;
    const r = await fetch(`${url}/x?y=1`);
    expect(r.status).toBe(502);
    expect((await r.json()).error).toContain("the local server did not answer");
    expect(logs).toEqual([expect.objectContaining({ method: "GET", path: "/x?y=1", status: 502 })]);
  } finally {
    client.close();
    await srv.close();
  }
});
