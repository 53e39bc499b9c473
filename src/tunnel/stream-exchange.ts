import { jsonError } from "../http/errors.ts";
import type { TunnelledSocket, VisitorInfo } from "./directory.ts";
import { badGateway, cancelAtClient, type Exchange, type ExchangeContext, type ExchangeMessage } from "./exchange.ts";
import { requestHeadersForClient, responseHeadersForVisitor } from "./headers.ts";
import { bodyFrameBytes, creditDue, decodeWhole, encodeFrame, FRAME, type FrameKind } from "./protocol.ts";
import { SocketBridge } from "./socket-bridge.ts";
import { ReceiveWindow, SendCredit, UNBUDGETED } from "./window.ts";

const NULL_BODY = new Set([204, 205, 304]);

/**
 * One request over the binary framing. Both bodies stream with a window per
 * request: the broker sends request bytes only against the client's credit, and
 * grants the client credit only as the visitor takes response bytes, so neither a
 * slow visitor nor a slow client makes the broker hold more than the response's
 * window (which may grow, within the tunnel's memory budget, for a client that asked).
 */
export class StreamExchange implements Exchange {
  readonly result: Promise<Response | TunnelledSocket>;
  private settle!: (r: Response | TunnelledSocket) => void;
  private headed = false;
  /** The visitor has its response (or socket): from here a failure cuts the stream. */
  private responded = false;
  private nullBody = false;
  /** No more frames are taken; `cleaned` once timers and the slot are freed. */
  private finished = false;
  private cleaned = false;
  /** Set when the stream is cut before the visitor asked for more. */
  private failure?: Error;
  private headTimer?: Timer;
  private idleTimer?: Timer;
  /** When bytes last moved: the idle timer looks at it when it fires, rather than being re-armed per frame. */
  private movedAt = 0;
  // Request body, visitor → client.
  private readonly sending: SendCredit;
  private reader?: { cancel(): Promise<void> };
  private resume?: () => void;
  // Response body, client → visitor.
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private ungranted = 0;
  private readonly receiving: ReceiveWindow;
  private ended = false;
  private controller?: ReadableStreamDefaultController<Uint8Array>;
  private wake?: () => void;

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly request: Request,
    private readonly visitor: VisitorInfo,
    private readonly upgrade: boolean,
  ) {
    const { window, maxWindow } = ctx.settings;
    const { growing } = ctx;
    this.sending = growing ? new SendCredit(growing.requests.start(), maxWindow) : new SendCredit(window, 0);
    this.receiving = growing ? new ReceiveWindow(growing.responses.start(), maxWindow, growing.responses.budget) : new ReceiveWindow(window, window, UNBUDGETED);
    this.result = new Promise((resolve) => (this.settle = resolve));
  }

  start(): void {
    const { ctx, request, visitor } = this;
    const hasBody = request.body !== null && !this.upgrade;
    const headers = requestHeadersForClient(request.headers, { ...visitor, passthrough: ctx.passthrough }, this.upgrade);
    ctx.link.sendJson({ type: "request", id: ctx.id, method: request.method, path: visitor.path, headers, hasBody, ...(this.upgrade ? { upgrade: "websocket" } : {}), ...(ctx.growing ? { window: this.receiving.window, bodyWindow: this.sending.window } : {}) });
    this.headTimer = setTimeout(() => this.fail(504, `the tunnel client sent no response head within ${ctx.settings.headTimeoutMs / 1000} s`), ctx.settings.headTimeoutMs);
    request.signal.addEventListener("abort", () => this.visitorGone(), { once: true });
    if (hasBody) void this.pumpBody(request.body!);
  }

  onMessage(m: ExchangeMessage): void {
    switch (m.type) {
      case "head":
        return this.head(m.status, m.headers);
      case "end":
        if (!this.headed) return this.fail(502, "the tunnel client ended a response it never started");
        this.ended = true;
        return this.pushed();
      case "cancel":
        return this.fail(502, `the tunnel client cancelled the request${m.message ? `: ${m.message.slice(0, 200)}` : ""}`, false);
      case "credit":
        this.sending.granted(m.bytes, m.window);
        // The client's request-body windows grew: the next request body starts there.
        if (m.window !== undefined) this.ctx.growing?.requests.grew(this.sending.window);
        return this.resume?.();
      case "blocked":
        return this.blocked(m.window);
      case "response":
        return this.fail(502, "the tunnel client answered with JSS framing on a streaming tunnel");
      case "ws-close":
        return; // a late close for a socket that was refused
    }
  }

  onFrame(kind: FrameKind, payload: Uint8Array): void {
    if (kind === FRAME.whole) {
      const whole = decodeWhole(payload);
      if (!whole.ok) return this.fail(502, `the tunnel client sent a malformed response: ${whole.error}`);
      return this.head(whole.message.status, whole.message.headers, whole.message.body);
    }
    if (kind !== FRAME.body) return this.fail(502, "the tunnel client sent websocket frames for an HTTP request");
    if (!this.headed) return this.fail(502, "the tunnel client sent body bytes before the response head");
    if (this.ended) return this.fail(502, "the tunnel client sent body bytes after the end");
    this.queued += payload.byteLength;
    if (this.queued > this.receiving.limit()) return this.fail(502, "the tunnel client sent past its flow-control window");
    this.queue.push(payload);
    this.receiving.arrived(payload.byteLength);
    this.touch();
    this.pushed();
  }

  onDrain(): void {
    this.resume?.();
  }

  abort(reason: string): void {
    this.fail(502, reason, false);
  }

  /** The head, and for a `whole` frame the complete body with it. */
  private head(status: number, raw: Record<string, string | string[]>, whole?: Uint8Array): void {
    if (this.headed) return this.fail(502, "the tunnel client sent a second response head");
    const upgraded = this.upgrade && status === 101;
    if (!upgraded && (status < 200 || status > 599)) return this.fail(502, `the tunnel client sent an invalid status ${status}`);
    const checked = responseHeadersForVisitor(raw, { passthrough: this.ctx.passthrough, sandbox: this.ctx.sandbox && !upgraded });
    if (!checked.ok) return this.fail(502, `the tunnel client sent a malformed response: ${checked.error}`);
    this.headed = true;
    clearTimeout(this.headTimer);
    if (upgraded) {
      this.finished = this.cleaned = true;
      this.receiving.release();
      const bridge = new SocketBridge(this.ctx, checked.headers);
      this.ctx.replace(this.ctx.id, bridge);
      return this.respond(bridge);
    }
    this.touch();
    this.nullBody = NULL_BODY.has(status) || this.request.method === "HEAD";
    if (whole) {
      this.respond(new Response(this.nullBody ? null : whole, { status, headers: checked.headers }));
      return this.finish();
    }
    const body = this.nullBody
      ? null
      : new ReadableStream<Uint8Array>(
          { pull: (c) => ((this.controller = c), this.deliver()), cancel: () => this.visitorGone() },
          { highWaterMark: 0 },
        );
    this.respond(new Response(body, { status, headers: checked.headers }));
  }

  private respond(r: Response | TunnelledSocket): void {
    this.responded = true;
    this.settle(r);
  }

  /** Bytes or the end arrived: hand them over if the visitor is waiting. */
  private pushed(): void {
    if (this.nullBody && this.ended) return this.finish();
    const wake = this.wake;
    if (!wake) return;
    this.wake = undefined;
    void this.deliver();
    wake();
  }

  /** The visitor wants more: one chunk, the end, or a promise that waits for either. */
  private deliver(): Promise<void> | void {
    if (this.failure) return this.controller!.error(this.failure);
    if (this.finished) {
      // Only a closed stream stops asking: a pull that enqueues nothing is called again.
      try {
        this.controller!.close();
      } catch {}
      return;
    }
    this.touch();
    const chunk = this.queue.shift();
    if (chunk) {
      this.queued -= chunk.byteLength;
      this.controller!.enqueue(chunk);
      this.grant(chunk.byteLength);
      return;
    }
    if (this.ended) {
      this.controller!.close();
      return this.finish();
    }
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** Returns credit to the client as `creditDue` says (no slivers, even to a client without the sender's rule). */
  private grant(bytes: number): void {
    this.ungranted += bytes - this.receiving.withhold(bytes);
    if (creditDue(this.ungranted, this.receiving.window, this.queue.length === 0)) {
      this.ctx.link.sendJson({ type: "credit", id: this.ctx.id, bytes: this.ungranted });
      this.ungranted = 0;
    }
  }

  /** The client ran out of credit for the response body: the window may grow (window.ts). */
  private blocked(senderWindow: number): void {
    const growing = this.ctx.growing;
    if (!growing || !this.headed || this.finished) return;
    const verdict = this.receiving.blocked(senderWindow, this.queued + this.ungranted, growing.rtt.minMs());
    if (verdict.kind === "shrink") return growing.responses.oversized(verdict.from);
    if (verdict.kind !== "grow") return;
    this.ctx.link.sendJson({ type: "credit", id: this.ctx.id, bytes: this.ungranted + verdict.extra, window: this.receiving.window });
    this.ungranted = 0;
    growing.responses.grew(this.receiving.window);
  }

  private async pumpBody(body: ReadableStream<Uint8Array>): Promise<void> {
    const { ctx } = this;
    const reader = (this.reader = body.getReader());
    let seen = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.finished) return;
        if (done) break;
        seen += value.byteLength;
        if (seen > ctx.settings.maxBodyBytes) return this.fail(413, `request body too large (limit ${ctx.settings.maxBodyBytes} bytes)`);
        this.touch();
        for (let at = 0; at < value.byteLength; ) {
          let n: number;
          while (!(n = bodyFrameBytes(this.sending.credit, value.byteLength - at)) || !ctx.link.writable()) {
            if (!n && this.sending.reportBlocked()) ctx.link.sendJson({ type: "blocked", id: ctx.id, window: this.sending.window });
            await new Promise<void>((resolve) => (this.resume = resolve));
            this.resume = undefined;
            if (this.finished) return;
          }
          ctx.link.send(encodeFrame(FRAME.body, ctx.id, value.subarray(at, at + n)));
          this.sending.spent(n);
          at += n;
        }
      }
      ctx.link.sendJson({ type: "end", id: ctx.id });
    } catch {
      this.visitorGone();
    }
  }

  private touch(): void {
    this.movedAt = performance.now();
    if (this.idleTimer || this.finished) return;
    this.armIdle(this.ctx.settings.idleTimeoutMs);
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.finished) return;
      const left = this.movedAt + this.ctx.settings.idleTimeoutMs - performance.now();
      if (left > 0) return this.armIdle(left);
      this.fail(504, `nothing moved for ${this.ctx.settings.idleTimeoutMs / 1000} s`);
    }, ms);
  }

  private visitorGone(): void {
    if (this.finished) return;
    cancelAtClient(this.ctx, "the visitor went away");
    this.finish();
  }

  /** Ends the exchange with `status` if no head was sent yet, else by cutting the stream. */
  private fail(status: 413 | 502 | 504, message: string, tellClient = true): void {
    if (this.finished) return;
    if (tellClient) cancelAtClient(this.ctx, message);
    if (!this.responded) this.respond(status === 502 ? badGateway(message) : jsonError(status, message));
    else this.failure = new Error(message);
    this.finish();
  }

  private finish(): void {
    if (this.cleaned) return;
    this.finished = this.cleaned = true;
    clearTimeout(this.headTimer);
    clearTimeout(this.idleTimer);
    this.queue.length = 0;
    this.receiving.release();
    this.resume?.();
    // A visitor waiting for bytes gets the cut (or the end) now: a pull that enqueues nothing is not retried.
    const wake = this.wake;
    this.wake = undefined;
    if (wake) {
      void this.deliver();
      wake();
    }
    void this.reader?.cancel().catch(() => {});
    this.ctx.done(this.ctx.id);
  }
}
