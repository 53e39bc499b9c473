// Dead y-webrtc sockets are dropped, live silent ones kept: the server pings
// every websocket when it goes quiet (Bun's sendPings) and closes one that does
// not answer within --ws-idle-timeout (the reference pings every 30 s). A
// y-webrtc client also pings in JSON every 15 s, so its socket never idles.
import { expect, test } from "bun:test";
import { connect } from "node:net";
import { startServer } from "../helpers/server.ts";
import { ySubscriber, yUrl } from "../helpers/ywebrtc.ts";

/** A websocket handshake over raw TCP, then silence: pings are never answered, as from a vanished peer. */
function deadSocket(port: number): Promise<{ closedAt: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    let upgraded = false;
    const closedAt = new Promise<number>((done) => sock.on("close", () => done(Date.now())));
    sock.on("error", reject);
    sock.on("data", (chunk) => {
      if (upgraded || !chunk.toString("latin1").startsWith("HTTP/1.1 101")) return;
      upgraded = true;
      // One masked text frame: subscribe to the room, then nothing more.
      const payload = Buffer.from(JSON.stringify({ type: "subscribe", topics: ["liveness"] }));
      const mask = Buffer.from([1, 2, 3, 4]);
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
      sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
      resolve({ closedAt });
    });
    sock.write(`GET /y-webrtc HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
}

test("a socket that stops answering pings is closed and leaves its room; one that answers stays", async () => {
  const srv = startServer({ wsIdleTimeout: 8 });
  try {
    const started = Date.now();
    const dead = await deadSocket(srv.server.port);
    const live = await ySubscriber(yUrl(srv.url), ["liveness"]);
    let liveClosed = false;
    void live.closed.then(() => (liveClosed = true));
    const closedAt = await dead.closedAt;
    expect(closedAt - started).toBeLessThan(14_000);
    // Past the idle timeout for the live one too: only its answers to the pings kept it.
    await Bun.sleep(Math.max(0, started + 13_000 - Date.now()));
    // The dead one no longer counts in the room; the live one, silent all along but answering pings, is open.
    expect(liveClosed).toBe(false);
    live.send({ type: "publish", topic: "liveness", data: 1 });
    expect((await live.next()).clients).toBe(1);
    live.close();
  } finally {
    await srv.close();
  }
}, 30_000);
