import { jsonError } from "../http/errors.ts";
import type { VisitorInfo } from "./directory.ts";
import { badGateway, cancelAtClient, type Exchange, type ExchangeContext, type ExchangeMessage } from "./exchange.ts";
import { requestHeadersForClient, responseHeadersForVisitor } from "./headers.ts";
import { JSS_MAX_BODY_BYTES, type FrameKind } from "./protocol.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** How a JSS client receives a body: UTF-8 text when it is, base64 otherwise. */
function encodeBody(bytes: Uint8Array): { body?: string; bodyEncoding?: "base64" } {
  if (bytes.byteLength === 0) return {};
  try {
    return { body: strictUtf8.decode(bytes) };
  } catch {
    return { body: Buffer.from(bytes).toString("base64"), bodyEncoding: "base64" };
  }
}

/**
 * One request in the JavaScript Solid Server's framing, for clients that did
 * not ask for streaming: whole bodies inside JSON frames, bounded by JSS's 10 MB.
 */
export class JssExchange implements Exchange {
  readonly result: Promise<Response>;
  private settle!: (r: Response) => void;
  private finished = false;
  private timer?: Timer;

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly request: Request,
    private readonly visitor: VisitorInfo,
  ) {
    this.result = new Promise((resolve) => (this.settle = resolve));
  }

  /** The most a JSS body may be here. */
  static maxBody(maxBodyBytes: number): number {
    return Math.min(maxBodyBytes, JSS_MAX_BODY_BYTES);
  }

  async start(): Promise<void> {
    const { ctx, request, visitor } = this;
    const limit = JssExchange.maxBody(ctx.settings.maxBodyBytes);
    const bytes = await readBounded(request, limit).catch(() => null);
    if (this.finished) return;
    if (bytes === null) return this.end(jsonError(413, `request body too large (limit ${limit} bytes)`), false);
    const headers = requestHeadersForClient(request.headers, { ...visitor, passthrough: ctx.passthrough }, false);
    ctx.link.sendJson({ type: "request", id: ctx.id, method: request.method, path: visitor.path, headers, ...encodeBody(bytes) });
    this.timer = setTimeout(() => this.end(jsonError(504, `the tunnel client sent no response within ${ctx.settings.headTimeoutMs / 1000} s`), true), ctx.settings.headTimeoutMs);
    request.signal.addEventListener("abort", () => this.end(badGateway("the visitor went away"), true), { once: true });
  }

  onMessage(m: ExchangeMessage): void {
    if (m.type === "cancel") return this.end(badGateway(`the tunnel client cancelled the request${m.message ? `: ${m.message.slice(0, 200)}` : ""}`), false);
    if (m.type !== "response") return this.end(badGateway(`the tunnel client sent "${m.type}" on a JSS-framed tunnel (register with stream: true for it)`), true);
    if (m.status < 200 || m.status > 599) return this.end(badGateway(`the tunnel client sent an invalid status ${m.status}`), false);
    const checked = responseHeadersForVisitor(m.headers, { passthrough: this.ctx.passthrough, sandbox: this.ctx.sandbox });
    if (!checked.ok) return this.end(badGateway(`the tunnel client sent a malformed response: ${checked.error}`), false);
    const body = typeof m.body === "string" && m.body.length > 0 ? (m.bodyEncoding === "base64" ? Buffer.from(m.body, "base64") : m.body) : null;
    const nullBody = m.status === 204 || m.status === 205 || m.status === 304;
    this.end(new Response(nullBody ? null : body, { status: m.status, headers: checked.headers }), false);
  }

  onFrame(_kind: FrameKind): void {
    this.end(badGateway("the tunnel client sent binary frames on a JSS-framed tunnel (register with stream: true for them)"), true);
  }

  onDrain(): void {}

  abort(reason: string): void {
    this.end(badGateway(reason), false);
  }

  private end(response: Response, tellClient: boolean): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    if (tellClient) cancelAtClient(this.ctx, "request ended");
    this.settle(response);
    this.ctx.done(this.ctx.id);
  }
}

/** The whole body, or null past `limit`. */
async function readBounded(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
