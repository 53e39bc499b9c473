// The peer client: in Bun against a real server, and as the browser module the server serves.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectPeer, generatePeerKey, peerId, type PeerClient, type PeerEvents } from "../../src/client/peer.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let srv: TestServer;
beforeAll(() => (srv = startServer({ turnUrls: ["turn:turn.example.com:3478"], turnSecret: "a-secret-of-16-chars" })));
afterAll(() => srv.close());

function nextEvent<K extends keyof PeerEvents>(client: PeerClient, type: K, ms = 3000): Promise<PeerEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${ms} ms`)), ms);
    const off = client.on(type, (event) => (clearTimeout(timer), off(), resolve(event)));
  });
}

describe("connectPeer", () => {
  test("signs in, sees the room, relays, and gets TURN credentials for its own key", async () => {
    const [ka, kb] = await Promise.all([generatePeerKey(), generatePeerKey()]);
    const a = await connectPeer({ url: srv.url, room: "client", key: ka });
    expect(a.publicKey).toBe(await peerId(ka));
    expect([...a.peers]).toEqual([]);
    expect(a.iceServers).toEqual([{ urls: ["turn:turn.example.com:3478"], username: expect.stringMatching(new RegExp(`^\\d+:${a.publicKey}$`)), credential: expect.any(String) }]);
    const joined = nextEvent(a, "peer-joined");
    const b = await connectPeer({ url: srv.url.replace(/^http/, "ws") + "/.webrtc", room: "client", key: kb });
    expect([...b.peers]).toEqual([a.publicKey]);
    expect(await joined).toEqual({ peer: b.publicKey });
    const offer = nextEvent(b, "offer");
    a.offer(b.publicKey, 'v=0\r\na=quote:"x"\r\n');
    expect(await offer).toEqual({ type: "offer", from: a.publicKey, sdp: 'v=0\r\na=quote:"x"\r\n' });
    const error = nextEvent(a, "error");
    a.hangup("0".repeat(64));
    expect(await error).toEqual({ message: "peer not online", peer: "0".repeat(64) });
    const fresh = nextEvent(a, "ice-servers");
    a.refreshIceServers();
    expect((await fresh).iceServers[0]!.urls).toEqual(["turn:turn.example.com:3478"]);
    const left = nextEvent(a, "peer-left");
    b.close();
    expect(await left).toEqual({ peer: b.publicKey });
    a.close();
  });

  test("reconnects with backoff after the server goes, and does not fight a replacement", async () => {
    const key = await generatePeerKey();
    const first = startServer();
    const a = await connectPeer({ url: first.url, room: "again", key, minDelayMs: 50 });
    const dropped = nextEvent(a, "close");
    const back = nextEvent(a, "peers", 5000);
    await first.close();
    expect(await dropped).toMatchObject({ code: 1001, reconnectInMs: expect.any(Number) });
    const second = startServer({ port: first.server.port });
    try {
      expect(await back).toEqual({ you: a.publicKey, peers: [], iceServers: [] });
      const replaced = nextEvent(a, "close");
      const again = nextEvent(a, "peers", 500);
      const b = await connectPeer({ url: second.url, room: "again", key });
      expect(await replaced).toEqual({ code: 4001, reason: "replaced", reconnectInMs: undefined });
      await expect(again).rejects.toThrow("no peers");
      b.close();
    } finally {
      await second.close();
    }
  });

  test("a refused first attempt rejects", async () => {
    const key = await generatePeerKey();
    await expect(connectPeer({ url: srv.url, room: "bad room", key })).rejects.toThrow("closed before entering the room");
  });
});

describe("GET /client/peer.js", () => {
  test("an ES module with ETag, Cache-Control and CORS; If-None-Match gets 304", async () => {
    const res = await fetch(`${srv.url}/client/peer.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toContain("max-age=");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const body = await res.text();
    expect(body).toContain("gemmapod-auth:");
    expect(body).not.toMatch(/\bimport\b.*from/);
    const again = await fetch(`${srv.url}/client/peer.js`, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    // The module loads and exports the client.
    const mod = await import(`data:text/javascript;base64,${Buffer.from(body).toString("base64")}`);
    expect(typeof mod.connectPeer).toBe("function");
    expect(typeof mod.generatePeerKey).toBe("function");
    expect((await fetch(`${srv.url}/client/peer.js`, { method: "POST" })).status).toBe(404);
  });
});
