import type { TunnelledSocket, VisitorSocketSink } from "./directory.ts";
import type { Exchange, ExchangeContext, ExchangeMessage } from "./exchange.ts";
import { encodeFrame, FRAME, type FrameKind } from "./protocol.ts";

/** Messages from the local server that may wait for the visitor's upgrade to finish. */
const MAX_EARLY_MESSAGES = 64;
/** Past this much waiting on the tunnel socket, the visitor is asked to come back later. */
const MAX_TUNNEL_BACKLOG = 4 * 1024 * 1024;

const decoder = new TextDecoder();

/** Codes a close frame may carry; the rest (1005, 1006, 1015) only describe what happened. */
export function sendableCloseCode(code: number | undefined): number {
  return code !== undefined && (code === 1000 || (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)) ? code : 1000;
}

/** A websocket carried through the tunnel, after the client's 101: frames both ways until either side closes. */
export class SocketBridge implements Exchange, TunnelledSocket {
  private visitor?: VisitorSocketSink;
  private early: (string | Uint8Array)[] = [];
  private closed_ = false;

  constructor(
    private readonly ctx: ExchangeContext,
    readonly headers: Headers,
  ) {}

  opened(visitor: VisitorSocketSink): void {
    this.visitor = visitor;
    for (const m of this.early) visitor.send(m);
    this.early = [];
  }

  message(data: string | Uint8Array): void {
    if (this.closed_) return;
    if (this.ctx.link.queued() > MAX_TUNNEL_BACKLOG) return this.visitor?.close(1013, "tunnel is congested");
    const text = typeof data === "string";
    this.ctx.link.send(encodeFrame(text ? FRAME.wsText : FRAME.wsBinary, this.ctx.id, text ? Buffer.from(data) : data));
  }

  closed(code: number, reason: string): void {
    if (this.closed_) return;
    this.end();
    this.ctx.link.sendJson({ type: "ws-close", id: this.ctx.id, code: sendableCloseCode(code), reason: reason.slice(0, 120) });
  }

  onMessage(m: ExchangeMessage): void {
    if (m.type === "ws-close" || m.type === "cancel") {
      const code = m.type === "ws-close" ? sendableCloseCode(m.code) : 1011;
      const reason = (m.type === "ws-close" ? m.reason : m.message) ?? "";
      this.closeVisitor(code, reason.slice(0, 120));
    }
  }

  onFrame(kind: FrameKind, payload: Uint8Array): void {
    if (this.closed_ || kind === FRAME.body) return;
    const data = kind === FRAME.wsText ? decoder.decode(payload) : payload;
    if (this.visitor) this.visitor.send(data);
    else if (this.early.length < MAX_EARLY_MESSAGES) this.early.push(data);
    else this.closeVisitor(1013, "visitor socket not ready");
  }

  onDrain(): void {}

  abort(reason: string): void {
    this.closeVisitor(1001, reason.slice(0, 120));
  }

  private closeVisitor(code: number, reason: string): void {
    if (this.closed_) return;
    this.end();
    this.visitor?.close(code, reason);
  }

  private end(): void {
    this.closed_ = true;
    this.early = [];
    this.ctx.done(this.ctx.id);
  }
}
