import { jsonError } from "../http/errors.ts";
import type { TunnelAccess } from "./access.ts";
import type { TunnelEndpoint, TunnelledSocket, VisitorInfo } from "./directory.ts";
import type { Exchange, ExchangeContext, ExchangeMessage, TunnelSettings } from "./exchange.ts";
import { JssExchange } from "./jss-exchange.ts";
import type { TunnelLink } from "./link.ts";
import type { FrameKind, RegisterOptions } from "./protocol.ts";
import { PathRtt } from "./path-rtt.ts";
import { StreamExchange } from "./stream-exchange.ts";
import { growingWindows, UNBUDGETED, WindowBudget, type GrowingWindows } from "./window.ts";

export type Routed = "ok" | "finished" | "unknown";

/**
 * A registered tunnel: the requests its client is serving, by id. One per
 * /.tunnel socket; the directory points visitors here.
 */
export class TunnelSession implements TunnelEndpoint {
  private readonly exchanges = new Map<number, Exchange>();
  private nextId = 1;
  private closedReason?: string;
  private readonly growing?: { responses: GrowingWindows; requests: GrowingWindows; rtt: PathRtt };

  /** `memory`: the broker's budget for windows, which this tunnel's share comes out of. */
  constructor(
    readonly name: string,
    private readonly link: TunnelLink,
    private readonly options: RegisterOptions,
    private readonly settings: TunnelSettings,
    private readonly access: TunnelAccess,
    memory: WindowBudget,
  ) {
    if (options.stream && options.grow) {
      // Request bodies are buffered by the client, which grants their windows: nothing of ours to budget.
      this.growing = {
        responses: growingWindows(settings.window, new WindowBudget(settings.memoryPerTunnel, memory)),
        requests: growingWindows(settings.window, UNBUDGETED),
        rtt: new PathRtt(),
      };
    }
  }

  /** Takes growing windows (told in `registered`). */
  grows(): boolean {
    return this.growing !== undefined;
  }

  /** Measures the path's round trip, at most once a second and only while requests start (path-rtt.ts). */
  probe(): void {
    const ping = this.growing?.rtt.ping();
    if (ping) this.link.sendJson(ping);
  }

  /** The client answered a ping. */
  pong(at: number): void {
    this.growing?.rtt.pong(at);
  }

  /** Binary framing (else JSS's). */
  streams(): boolean {
    return this.options.stream === true;
  }

  /** Requests in flight. */
  live(): number {
    return this.exchanges.size;
  }

  async fetch(request: Request, visitor: VisitorInfo): Promise<Response> {
    const refusal = await this.admit(request);
    if (refusal) return refusal;
    const ctx = this.context(visitor);
    if (!this.options.stream) {
      const exchange = new JssExchange(ctx, request, visitor);
      this.exchanges.set(ctx.id, exchange);
      void exchange.start();
      return exchange.result;
    }
    return (await this.startStream(ctx, request, visitor, false)) as Response;
  }

  async openSocket(request: Request, visitor: VisitorInfo): Promise<TunnelledSocket | Response> {
    if (!this.options.stream) return jsonError(501, "this tunnel's client does not carry websockets (it registered without stream: true)");
    const refusal = await this.admit(request);
    if (refusal) return refusal;
    return this.startStream(this.context(visitor), request, visitor, true);
  }

  /** A client frame about request `id`; "finished" ones arrive late after a cancel and are dropped. */
  onMessage(message: ExchangeMessage): Routed {
    const exchange = this.exchanges.get(message.id);
    if (!exchange) return message.id < this.nextId ? "finished" : "unknown";
    exchange.onMessage(message);
    return "ok";
  }

  onFrame(kind: FrameKind, id: number, payload: Uint8Array): Routed {
    const exchange = this.exchanges.get(id);
    if (!exchange) return id < this.nextId ? "finished" : "unknown";
    exchange.onFrame(kind, payload);
    return "ok";
  }

  onDrain(): void {
    this.link.flush();
    if (!this.link.writable()) return;
    for (const exchange of this.exchanges.values()) exchange.onDrain();
  }

  /** The client is gone or replaced: every request ends now. */
  close(reason: string): void {
    this.closedReason = reason;
    const exchanges = [...this.exchanges.values()];
    this.exchanges.clear();
    for (const exchange of exchanges) exchange.abort(reason);
  }

  private startStream(ctx: ExchangeContext, request: Request, visitor: VisitorInfo, upgrade: boolean): Promise<Response | TunnelledSocket> {
    const exchange = new StreamExchange(ctx, request, visitor, upgrade);
    this.exchanges.set(ctx.id, exchange);
    exchange.start();
    return exchange.result;
  }

  private async admit(request: Request): Promise<Response | null> {
    const denied = this.access ? await this.access(request, new URL(request.url).pathname) : null;
    if (denied) return denied;
    if (this.closedReason) return jsonError(502, this.closedReason);
    if (this.exchanges.size >= this.settings.maxConcurrent) {
      return jsonError(503, `this tunnel is serving its limit of ${this.settings.maxConcurrent} requests at once`, { "Retry-After": "1" });
    }
    const declared = Number(request.headers.get("content-length") ?? 0);
    const limit = this.options.stream ? this.settings.maxBodyBytes : JssExchange.maxBody(this.settings.maxBodyBytes);
    if (declared > limit) return jsonError(413, `request body too large (limit ${limit} bytes)`);
    return null;
  }

  private context(visitor: VisitorInfo): ExchangeContext {
    const id = this.nextId++;
    this.probe();
    return {
      id,
      link: this.link,
      settings: this.settings,
      growing: this.growing,
      passthrough: this.options.passthrough === true,
      // A subdomain is its own origin; under /tunnel/ the page would share the broker's.
      sandbox: !visitor.subdomain,
      done: (doneId) => this.exchanges.delete(doneId),
      replace: (replacedId, next) => this.exchanges.set(replacedId, next),
    };
  }
}
