// A websocket client made by hand over a raw TCP socket, for what no real client
// sends: the header of a huge frame and then part of it, never finished.
import { connect, type Socket } from "node:net";

export interface RawUpgrade {
  socket: Socket;
  /** The status of the server's answer to the upgrade (101 when it became a websocket). */
  status: number;
  /** Resolves once the server (or the network) closed the connection. */
  closed: Promise<void>;
  /** Whether it is still open. */
  open(): boolean;
  /** Everything the server sent so far (the answer's head and body), as latin1. */
  received(): string;
}

/** Sends a websocket upgrade for `path` and waits for the answer's status line. */
export function rawUpgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<RawUpgrade> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let head = "";
    let isOpen = true;
    const closed = new Promise<void>((done) => socket.once("close", () => ((isOpen = false), done())));
    socket.on("error", () => {});
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n");
      if (end === -1) return;
      socket.off("data", onData);
      // What the server sends next (frames, an error body) is kept, up to a bound.
      socket.on("data", (more: Buffer) => {
        if (head.length < 64 * 1024) head += more.toString("latin1");
      });
      resolve({ socket, status: Number(head.slice(9, 12)), closed, open: () => isOpen, received: () => head });
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error(`closed before answering the upgrade of ${path}`)));
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
  });
}

/** The header of one masked client text frame announcing `length` bytes of payload. */
export function textFrameHeader(length: number): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x81;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  header.set(crypto.getRandomValues(new Uint8Array(4)), 10);
  return header;
}

/** Writes `bytes` of junk in chunks, waiting for the socket to drain; stops early if it closes. */
export async function writeJunk(socket: Socket, bytes: number, chunk = 64 * 1024): Promise<number> {
  const block = Buffer.alloc(chunk, 0x61);
  let sent = 0;
  while (sent < bytes && !socket.destroyed && socket.writable) {
    const n = Math.min(chunk, bytes - sent);
    const flushed = socket.write(n === chunk ? block : block.subarray(0, n));
    sent += n;
    if (!flushed) {
      const drained = await Promise.race([
        new Promise<boolean>((r) => socket.once("drain", () => r(true))),
        new Promise<boolean>((r) => socket.once("close", () => r(false))),
        Bun.sleep(10_000).then(() => false),
      ]);
      if (!drained) break;
    }
  }
  return sent;
}
