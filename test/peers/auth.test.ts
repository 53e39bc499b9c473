// Signing in on WS /.webrtc: the shared challenge/auth gate, over real sockets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { authFrame, enterRoom, newKey, peersUrl } from "../helpers/peers.ts";
import { startServer, withServer, type TestServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/ws-client.ts";

let srv: TestServer;
beforeAll(() => (srv = startServer()));
afterAll(() => srv.close());

const open = () => TestSocket.open(peersUrl(srv, "auth-room"));

describe("WS /.webrtc sign-in", () => {
  test("a challenge of 128 bits on open; a good signature is answered authenticated, then peers", async () => {
    const key = await newKey();
    const s = await open();
    const nonce = await s.challenge;
    expect(Buffer.from(nonce, "base64url").length).toBe(16);
    s.send(await authFrame(s, key));
    expect(await s.next()).toEqual({ type: "authenticated", publicKey: key.id });
    expect(await s.next()).toEqual({ type: "peers", you: key.id, peers: [], iceServers: [] });
    s.close();
  });

  test("every socket gets its own nonce", async () => {
    const [a, b] = await Promise.all([open(), open()]);
    expect(await a.challenge).not.toBe(await b.challenge);
    a.close();
    b.close();
  });

  test("a bad signature, another socket's nonce, another host, a short key: error then 4003", async () => {
    const key = await newKey();
    const cases: [string, (s: TestSocket) => Promise<Record<string, unknown>>][] = [
      ["bad signature", async (s) => ({ ...(await authFrame(s, key)), signature: await key.sign("something else") })],
      [
        "another socket's nonce",
        async (s) => {
          const other = await open();
          const frame = await authFrame(other, key);
          other.close();
          await s.challenge;
          return frame;
        },
      ],
      ["a signature naming another host", (s) => authFrame(s, key, "evil.example:443")],
      ["a 62-hex key", async (s) => ({ ...(await authFrame(s, key)), publicKey: key.id.slice(2) })],
      ["a non-canonical signature spelling", async (s) => ({ ...(await authFrame(s, key)), signature: `${(await authFrame(s, key)).signature}=` })],
      ["a missing signature", async (s) => ({ type: "auth", publicKey: key.id, nonce: await s.challenge })],
    ];
    for (const [name, frame] of cases) {
      const s = await open();
      s.send(await frame(s));
      const error = await s.next();
      expect(error.type, name).toBe("error");
      expect(typeof error.message).toBe("string");
      expect((await s.closed).code, name).toBe(4003);
    }
  });

  test("frames before auth get authenticate first, and the socket stays open to sign in", async () => {
    const key = await newKey();
    const s = await open();
    const peer = (await newKey()).id;
    s.send({ type: "offer", to: peer, sdp: "v=0" });
    expect(await s.next()).toEqual({ type: "error", message: "authenticate first" });
    s.send({ type: "ice-servers" });
    expect(await s.next()).toEqual({ type: "error", message: "authenticate first" });
    s.send(await authFrame(s, key));
    expect(await s.next({ type: "authenticated" })).toEqual({ type: "authenticated", publicKey: key.id });
    s.close();
  });

  test("a second auth is refused with 4003", async () => {
    const peer = await enterRoom(srv, "auth-room");
    peer.socket.send(await authFrame(peer.socket, peer.key));
    expect(await peer.socket.next({ type: "error" })).toMatchObject({ message: "already authenticated" });
    expect((await peer.socket.closed).code).toBe(4003);
  });

  test("no auth in time: error, then 4003", async () => {
    await withServer({ peerAuthTimeoutMs: 300 }, async (quick) => {
      const s = await TestSocket.open(peersUrl(quick));
      expect(await s.next()).toEqual({ type: "error", message: "authentication timed out" });
      expect((await s.closed).code).toBe(4003);
    });
  });

  test("with --public-url, the signed host is that URL's, not the Host header", async () => {
    await withServer({ publicUrl: "https://peers.example.com" }, async (pub) => {
      const key = await newKey();
      const dialedHost = await TestSocket.open(peersUrl(pub));
      dialedHost.send(await authFrame(dialedHost, key));
      expect((await dialedHost.next()).type).toBe("error");
      expect((await dialedHost.closed).code).toBe(4003);
      const s = await TestSocket.open(peersUrl(pub));
      s.send(await authFrame(s, key, "peers.example.com"));
      expect(await s.next()).toEqual({ type: "authenticated", publicKey: key.id });
      s.close();
    });
  });
});
