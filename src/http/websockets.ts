import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { RateLimiter } from "../limits/rate-limiter.ts";
import { clientIp } from "./client-ip.ts";
import { jsonError } from "./errors.ts";
import type { ProxyWarning } from "./proxy-warning.ts";

/** Every websocket the server accepts says which protocol's socket it is; Bun.serve has one handler for all. */
export type SocketKind = string;

export interface KindedData {
  kind: SocketKind;
  /** The client's address as admit() read it: open sockets are counted per address. */
  ip: string;
}

/**
 * Bun's frame cap, one for every socket: Bun buffers an unfinished frame up to
 * it before any protocol code runs, so it is what a stranger can make the server
 * hold per socket. What the protocols need (`needed`: twice --max-message-bytes,
 * a tunnel's binary frame), or more when the operator opts in (--max-frame-bytes).
 */
export function websocketFrameCap(needed: number[], optIn: number): number {
  return Math.max(...needed, optIn);
}

/** What a protocol handles; `message` is the one every protocol needs. */
export interface SocketHandlers<T> {
  open?(ws: ServerWebSocket<T>): void;
  message(ws: ServerWebSocket<T>, frame: string | Buffer): void;
  drain?(ws: ServerWebSocket<T>): void;
  close?(ws: ServerWebSocket<T>, code: number, reason: string): void;
  /**
   * Bun has one frame cap for every kind (the largest any kind needs); a kind
   * with a smaller one sets it here, and bigger frames close the socket with
   * 1009 as Bun's own cap would.
   */
  maxFrameBytes?: number;
}

type Handlers = Record<SocketKind, SocketHandlers<any>>;

/**
 * One Bun websocket handler that hands each event to its socket's protocol,
 * and the gate every upgrade passes: the connection cap and the per-address
 * connect rate count all kinds together.
 */
export class WebSockets {
  private open = 0;
  private readonly byKind = new Map<SocketKind, number>();
  private readonly connectLimiter: RateLimiter;
  /** Open sockets per client address; an address leaves the map with its last socket. */
  private readonly byAddress = new Map<string, number>();

  constructor(
    private readonly handlers: Handlers,
    private readonly limits: { maxConnections: number; maxPerAddress: number; connectRate: number; trustProxy: boolean; proxyWarning?: ProxyWarning },
  ) {
    this.connectLimiter = new RateLimiter(limits.connectRate, limits.connectRate * 2);
  }

  count(): number {
    return this.open;
  }

  /** Open sockets of one kind (metrics). */
  countOf(kind: SocketKind): number {
    return this.byKind.get(kind) ?? 0;
  }

  /** The client's address if it may open one more socket, else the refusal to send. */
  admit(req: Request, server: Server<unknown>, known?: string): string | Response {
    this.limits.proxyWarning?.check(req, server);
    if (this.open >= this.limits.maxConnections) return jsonError(503, "server is at its connection limit", { "Retry-After": "5" });
    const ip = known ?? clientIp(req, server, this.limits.trustProxy);
    // Counted once open: upgrades still under way can overshoot by at most the connect burst.
    if ((this.byAddress.get(ip) ?? 0) >= this.limits.maxPerAddress) {
      return jsonError(429, `too many open websockets from this address (limit ${this.limits.maxPerAddress})`, { "Retry-After": "5" });
    }
    const retry = this.connectLimiter.take(ip);
    if (retry > 0) return jsonError(429, "too many new connections from this address", { "Retry-After": String(retry) });
    return ip;
  }

  handler(): Required<Pick<WebSocketHandler<KindedData>, "open" | "message" | "drain" | "close">> {
    const { handlers } = this;
    const of = (ws: ServerWebSocket<KindedData>) => handlers[ws.data.kind]!;
    return {
      open: (ws) => {
        this.open++;
        this.byKind.set(ws.data.kind, this.countOf(ws.data.kind) + 1);
        this.byAddress.set(ws.data.ip, (this.byAddress.get(ws.data.ip) ?? 0) + 1);
        of(ws).open?.(ws);
      },
      message: (ws, frame) => {
        const h = of(ws);
        if (h.maxFrameBytes !== undefined && frameBytesOver(frame, h.maxFrameBytes)) return ws.close(1009, "message too big");
        h.message(ws, frame);
      },
      drain: (ws) => of(ws).drain?.(ws),
      close: (ws, code, reason) => {
        this.open--;
        this.byKind.set(ws.data.kind, this.countOf(ws.data.kind) - 1);
        const left = (this.byAddress.get(ws.data.ip) ?? 1) - 1;
        if (left > 0) this.byAddress.set(ws.data.ip, left);
        else this.byAddress.delete(ws.data.ip);
        of(ws).close?.(ws, code, reason);
      },
    };
  }
}

/** `frame` is longer than `max` bytes; a string's length counts UTF-16 units (<= bytes), so bytes are only counted when it matters. */
function frameBytesOver(frame: string | Buffer, max: number): boolean {
  if (frame.length > max) return true;
  return typeof frame === "string" && frame.length * 3 > max && Buffer.byteLength(frame) > max;
}
