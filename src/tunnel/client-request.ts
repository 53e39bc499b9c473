// The tunnel client's side of one request: from the broker to the local server and back.
import { sendableCloseCode } from "./socket-bridge.ts";
import { gatheredBody } from "./gathered-body.ts";
import { bodyFrameBytes, creditDue, encodeFrame, encodeWhole, FRAME, wholeFits, type FrameKind, type ResponseHeaders } from "./protocol.ts";
import type { PathRtt } from "./path-rtt.ts";
import { ReceiveWindow, SendCredit, UNBUDGETED, type WindowBudget } from "./window.ts";

export interface RequestMessage {
  id: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  hasBody?: boolean;
  upgrade?: "websocket";
  /** The response body's first window (a broker with growing windows). */
  window?: number;
  /** The request body's first window (a broker with growing windows). */
  bodyWindow?: number;
}

export interface ClientLink {
  send(frame: string | Uint8Array): void;
  /** Body frames may go out now: the socket is not backed up (frames behind a backlog wait for it). */
  writable(): boolean;
  /** Resolves once `writable()` may be true again. */
  drained(): Promise<void>;
  /** Bytes of a body the broker lets us send at first (registered `window`). */
  window: number;
  /** The broker grows windows up to this; 0 when it does not (an older broker). */
  maxWindow: number;
  /** What this client's request-body windows may grow by together, when the broker grows windows. */
  budget?: WindowBudget;
  /** The path's round trip as this client measures it, when the broker grows windows. */
  rtt?: PathRtt;
}

export interface RequestLog {
  method: string;
  path: string;
  status: number;
  ms: number;
}

/** A window the broker named, else `fallback` (an older broker names none). */
const windowOr = (value: unknown, fallback: number): number => (Number.isInteger(value) && (value as number) > 0 ? (value as number) : fallback);

/** Headers the local server must not get from the visitor: its own Host, and framing the body re-frames. */
const NOT_FORWARDED = new Set(["host", "content-length"]);

/** One request the broker handed us. */
export abstract class ClientExchange {
  protected finished = false;
  protected readonly started = performance.now();

  constructor(
    protected readonly link: ClientLink,
    protected readonly m: RequestMessage,
    private readonly onDone: (id: number, log: RequestLog) => void,
  ) {}

  abstract onFrame(kind: FrameKind, payload: Uint8Array): void;
  abstract onEnd(): void;
  abstract onCredit(bytes: number, window?: number): void;
  abstract onBlocked(senderWindow: number): void;
  abstract onClose(code: number, reason: string): void;
  /** The broker cancelled it, or the tunnel dropped. */
  abstract cancel(): void;

  /** Measures the path's round trip when a body is coming (path-rtt.ts). */
  protected probe(): void {
    const ping = this.link.rtt?.ping();
    if (ping) this.link.send(JSON.stringify(ping));
  }

  protected json(message: object): void {
    this.link.send(JSON.stringify({ ...message, id: this.m.id }));
  }

  protected failed(error: unknown): void {
    if (this.finished) return;
    this.json({ type: "cancel", message: `the tunnel client could not carry the request: ${(error as Error).message}` });
    this.done(502);
  }

  protected done(status: number): void {
    if (this.finished) return;
    this.finished = true;
    this.onDone(this.m.id, { method: this.m.method, path: this.m.path, status, ms: performance.now() - this.started });
  }
}

/** An HTTP request: both bodies streamed against the broker's window. */
export class HttpExchange extends ClientExchange {
  private readonly abort = new AbortController();
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private bodyEnded = false;
  private wakeBody?: () => void;
  private ungranted = 0;
  private readonly receiving: ReceiveWindow;
  private readonly sending: SendCredit;
  private wakeCredit?: () => void;

  constructor(link: ClientLink, m: RequestMessage, to: string, onDone: (id: number, log: RequestLog) => void) {
    super(link, m, onDone);
    this.sending = new SendCredit(windowOr(m.window, link.window), link.maxWindow);
    // A broker with growing windows starts a request body where this client's windows grew to before.
    const first = windowOr(m.bodyWindow, link.window);
    this.receiving = link.budget ? new ReceiveWindow(first, link.maxWindow, link.budget, first) : new ReceiveWindow(first, first, UNBUDGETED);
    if (m.hasBody) this.probe();
    // Whatever the broker sent (a header Fetch refuses, say), the request fails, never the process.
    this.run(to).catch((error) => this.failed(error));
  }

  onFrame(kind: FrameKind, payload: Uint8Array): void {
    if (kind !== FRAME.body || this.bodyEnded) return;
    this.queue.push(payload);
    this.queued += payload.byteLength;
    this.receiving.arrived(payload.byteLength);
    this.wake();
  }

  /** The broker ran out of credit for the request body: the window may grow (window.ts). */
  onBlocked(senderWindow: number): void {
    if (this.finished || this.bodyEnded) return;
    const verdict = this.receiving.blocked(senderWindow, this.queued + this.ungranted, this.link.rtt?.minMs());
    if (verdict.kind !== "grow") return;
    this.json({ type: "credit", bytes: this.ungranted + verdict.extra, window: this.receiving.window });
    this.ungranted = 0;
  }

  onEnd(): void {
    this.bodyEnded = true;
    this.wake();
  }

  onCredit(bytes: number, window?: number): void {
    this.sending.granted(bytes, window);
    const wake = this.wakeCredit;
    this.wakeCredit = undefined;
    wake?.();
  }

  onClose(): void {}

  cancel(): void {
    this.abort.abort();
    this.wakeCredit?.();
    this.done(499);
  }

  protected override done(status: number): void {
    this.receiving.release();
    super.done(status);
  }

  private wake(): void {
    const wake = this.wakeBody;
    this.wakeBody = undefined;
    wake?.();
  }

  private requestBody(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (this.queue.length === 0 && !this.bodyEnded) await new Promise<void>((r) => (this.wakeBody = r));
          const chunk = this.queue.shift();
          if (!chunk) return controller.close();
          controller.enqueue(chunk);
          // The local server took it: the broker may send as much again.
          this.queued -= chunk.byteLength;
          this.ungranted += chunk.byteLength - this.receiving.withhold(chunk.byteLength);
          if (creditDue(this.ungranted, this.receiving.window, this.queue.length === 0)) {
            this.json({ type: "credit", bytes: this.ungranted });
            this.ungranted = 0;
          }
        },
      },
      { highWaterMark: 0 },
    );
  }

  private async run(to: string): Promise<void> {
    const { m } = this;
    const headers = new Headers();
    for (const [name, value] of Object.entries(m.headers)) if (!NOT_FORWARDED.has(name)) headers.append(name, value);
    let response: Response;
    try {
      response = await fetch(to + m.path, {
        method: m.method,
        headers,
        body: m.hasBody ? this.requestBody() : undefined,
        redirect: "manual",
        signal: this.abort.signal,
        // Bytes as the local server sent them, Content-Encoding and all.
        decompress: false,
        duplex: "half",
      } as RequestInit);
    } catch (error) {
      if (this.finished) return;
      this.json({ type: "cancel", message: `the local server did not answer: ${(error as Error).message}` });
      return this.done(502);
    }
    const out: ResponseHeaders = {};
    response.headers.forEach((value, name) => {
      if (name !== "set-cookie") out[name] = value;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length) out["set-cookie"] = cookies;
    try {
      // A small body of known size goes whole: the broker answers it in one piece.
      const declared = Number(response.headers.get("content-length") ?? Number.NaN);
      const head = { status: response.status, headers: out };
      if (response.body && Number.isInteger(declared) && declared <= this.sending.credit && wholeFits(head, declared)) {
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (this.finished) return;
        this.link.send(encodeWhole(this.m.id, head, bytes));
        return this.done(response.status);
      } else {
        this.json({ type: "head", status: response.status, headers: out });
        if (response.body) await this.pumpResponse(response.body);
      }
      if (!this.finished) this.json({ type: "end" });
    } catch (error) {
      if (!this.finished) this.json({ type: "cancel", message: `the local server's body failed: ${(error as Error).message}` });
    }
    this.done(response.status);
  }

  private async pumpResponse(body: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of gatheredBody(body)) {
      for (let at = 0; at < chunk.byteLength; ) {
        let n: number;
        while (!(n = bodyFrameBytes(this.sending.credit, chunk.byteLength - at)) || !this.link.writable()) {
          if (this.finished) return;
          if (n) {
            // Backed up: what we queue now would be ahead of every other request's answer.
            await this.link.drained();
            continue;
          }
          if (this.sending.reportBlocked()) this.json({ type: "blocked", window: this.sending.window });
          await new Promise<void>((r) => (this.wakeCredit = r));
        }
        if (this.finished) return;
        this.link.send(encodeFrame(FRAME.body, this.m.id, chunk.subarray(at, at + n)));
        this.sending.spent(n);
        at += n;
      }
    }
  }
}

/** A websocket upgrade: a socket to the local server, frames relayed both ways. */
export class SocketExchange extends ClientExchange {
  private readonly ws: WebSocket;
  private open = false;

  constructor(link: ClientLink, m: RequestMessage, to: string, onDone: (id: number, log: RequestLog) => void) {
    super(link, m, onDone);
    const protocols = m.headers["sec-websocket-protocol"]?.split(",").map((p) => p.trim()).filter(Boolean);
    try {
      this.ws = new WebSocket(to.replace(/^http/, "ws") + m.path, protocols);
    } catch (error) {
      this.ws = { close() {} } as WebSocket;
      this.failed(error);
      return;
    }
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => {
      this.open = true;
      this.json({ type: "head", status: 101, headers: this.ws.protocol ? { "sec-websocket-protocol": this.ws.protocol } : {} });
    };
    this.ws.onmessage = (e) => {
      const text = typeof e.data === "string";
      this.link.send(encodeFrame(text ? FRAME.wsText : FRAME.wsBinary, m.id, text ? Buffer.from(e.data) : new Uint8Array(e.data)));
    };
    this.ws.onclose = (e) => {
      if (this.finished) return;
      if (this.open) this.json({ type: "ws-close", code: sendableCloseCode(e.code), reason: e.reason });
      else this.json({ type: "cancel", message: "the local server refused the websocket" });
      this.done(this.open ? 101 : 502);
    };
  }

  onFrame(kind: FrameKind, payload: Uint8Array): void {
    if (!this.open || kind === FRAME.body) return;
    this.ws.send(kind === FRAME.wsText ? new TextDecoder().decode(payload) : payload);
  }

  onEnd(): void {}
  onCredit(): void {}
  onBlocked(): void {}

  onClose(code: number, reason: string): void {
    this.done(101);
    const c = sendableCloseCode(code);
    this.ws.close(c >= 3000 || c === 1000 ? c : 1000, reason);
  }

  cancel(): void {
    this.done(499);
    this.ws.close();
  }
}
