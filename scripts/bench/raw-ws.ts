// A minimal WebSocket client over node:net, because only a raw socket lets us
// pick the source address (127.0.0.x): tens of thousands of idle origins need
// more than one address's worth of ephemeral ports. It speaks just enough of
// RFC 6455 for an idle origin: handshake, masked text frames out, text, ping
// and close frames in.
import { connect, type Socket } from "node:net";

export interface RawWsOptions {
  host: string;
  port: number;
  path: string;
  localAddress?: string;
  /** Never answer pings, like a peer whose network went away (for tests of idle sockets). */
  ignorePings?: boolean;
  onText: (text: string) => void;
  onClose: () => void;
}

export interface RawWs {
  sendText(text: string): void;
  destroy(): void;
}

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** One client-to-server frame: FIN set, payload masked with a fresh key. */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = new Uint8Array(head + 4 + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) {
    frame[1] = 0x80 | len;
  } else if (len < 65536) {
    frame[1] = 0x80 | 126;
    new DataView(frame.buffer).setUint16(2, len);
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(len));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, head);
  for (let i = 0; i < len; i++) frame[head + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function openRawWs(options: RawWsOptions): Promise<RawWs> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: options.host, port: options.port, localAddress: options.localAddress });
    let buffered: Buffer = Buffer.alloc(0);
    let upgraded = false;
    let closed = false;
    const handle: RawWs = {
      sendText: (text) => void socket.write(clientFrame(OP_TEXT, encoder.encode(text))),
      destroy: () => socket.destroy(),
    };
    const close = () => {
      if (closed) return;
      closed = true;
      socket.destroy();
      if (upgraded) options.onClose();
    };

    socket.on("connect", () => {
      const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
      socket.write(
        `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("error", (error) => {
      if (!upgraded) reject(error);
      close();
    });
    socket.on("close", () => {
      if (!upgraded) reject(new Error("closed before the websocket handshake"));
      close();
    });
    socket.on("data", (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      if (!upgraded) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end === -1) return;
        const status = buffered.subarray(0, buffered.indexOf("\r\n")).toString();
        if (!/^HTTP\/1\.1 101 /.test(status)) {
          reject(new Error(`handshake refused: ${status}`));
          return close();
        }
        upgraded = true;
        buffered = buffered.subarray(end + 4);
        resolve(handle);
      }
      buffered = readFrames(buffered, socket, options, close);
    });
  });
}

/** Handles every complete server frame in `data`; returns the incomplete rest. */
function readFrames(data: Buffer, socket: Socket, options: RawWsOptions, close: () => void): Buffer {
  let at = 0;
  for (;;) {
    if (data.length - at < 2) break;
    const opcode = data[at]! & 0x0f;
    let len = data[at + 1]! & 0x7f;
    let head = 2;
    if (len === 126) {
      if (data.length - at < 4) break;
      len = data.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (data.length - at < 10) break;
      len = Number(data.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (data.length - at < head + len) break;
    const payload = data.subarray(at + head, at + head + len);
    at += head + len;
    if (opcode === OP_TEXT) options.onText(decoder.decode(payload));
    else if (opcode === OP_PING) options.ignorePings || socket.write(clientFrame(OP_PONG, payload));
    else if (opcode === OP_CLOSE) {
      close();
      break;
    }
  }
  return data.subarray(at);
}
