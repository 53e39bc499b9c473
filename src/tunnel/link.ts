import type { ServerWebSocket } from "bun";

/** Past this many buffered bytes the broker stops sending body bytes until the socket drains. */
const HIGH_WATER = 256 * 1024;
/** Control frames wait in the outbox while the socket is backed up; a client that never reads is cut off. */
const MAX_OUTBOX_BYTES = 64 * 1024 * 1024;

/**
 * The broker's side of one /.tunnel socket. Bun closes a socket that is sent to
 * while over its backpressure limit, so nothing is sent while the socket is
 * backed up: control frames queue here (bounded) and body pumps wait for `writable`.
 */
export class TunnelLink {
  private readonly outbox: (string | Uint8Array)[] = [];
  private outboxBytes = 0;

  constructor(private readonly ws: ServerWebSocket<unknown>) {}

  /** Body bytes may go out now. */
  writable(): boolean {
    return this.outbox.length === 0 && this.ws.getBufferedAmount() < HIGH_WATER;
  }

  /** Backed up by this much, beyond what the socket itself holds. */
  queued(): number {
    return this.outboxBytes;
  }

  send(frame: string | Uint8Array): void {
    if (this.ws.readyState !== 1) return;
    if (this.writable()) {
      this.ws.send(frame);
      return;
    }
    this.outbox.push(frame);
    this.outboxBytes += typeof frame === "string" ? frame.length : frame.byteLength;
    if (this.outboxBytes > MAX_OUTBOX_BYTES) this.ws.close(1008, "tunnel client is not reading");
  }

  sendJson(message: object): void {
    this.send(JSON.stringify(message));
  }

  /** On drain: sends what waited, as far as the socket takes it. */
  flush(): void {
    while (this.outbox.length > 0 && this.ws.readyState === 1 && this.ws.getBufferedAmount() < HIGH_WATER) {
      const frame = this.outbox.shift()!;
      this.outboxBytes -= typeof frame === "string" ? frame.length : frame.byteLength;
      this.ws.send(frame);
    }
  }
}
