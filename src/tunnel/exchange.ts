// What every carried request shares: its slot in the session, and how it ends.
import { jsonError } from "../http/errors.ts";
import type { ClientMessage, FrameKind } from "./protocol.ts";
import type { TunnelLink } from "./link.ts";
import type { PathRtt } from "./path-rtt.ts";
import type { GrowingWindows } from "./window.ts";

export interface TunnelSettings {
  /** No response head by then: 504. */
  headTimeoutMs: number;
  /** No body bytes either way for this long: the exchange is cut. */
  idleTimeoutMs: number;
  maxBodyBytes: number;
  maxConcurrent: number;
  /** Bytes of one request's body either side may have in flight: an older client's for good, the first window of a growing one. */
  window: number;
  /** The most one body's window grows to. */
  maxWindow: number;
  /** Response-body windows of one tunnel together, beyond each body's first 64 KiB. */
  memoryPerTunnel: number;
}


export type ExchangeMessage = Extract<ClientMessage, { id: number }>;

/** A request in flight on a session, addressed by its id. */
export interface Exchange {
  onMessage(message: ExchangeMessage): void;
  onFrame(kind: FrameKind, payload: Uint8Array): void;
  /** The socket drained: a parked body pump may go on. */
  onDrain(): void;
  /** The tunnel client is gone: answer 502, or cut the stream. */
  abort(reason: string): void;
}

export interface ExchangeContext {
  id: number;
  link: TunnelLink;
  settings: TunnelSettings;
  /** Set when the client takes growing windows: response bodies' (the broker's memory), request bodies' (the client's). */
  growing?: { responses: GrowingWindows; requests: GrowingWindows; rtt: PathRtt };
  passthrough: boolean;
  /** Tunnelled responses get the sandbox CSP (not on per-tunnel subdomains). */
  sandbox: boolean;
  /** Frees the exchange's slot. */
  done(id: number): void;
  /** An accepted websocket takes over the exchange's slot. */
  replace(id: number, next: Exchange): void;
}

export const badGateway = (message: string): Response => jsonError(502, message);

/** Sends `cancel` for `id` to the client. */
export function cancelAtClient(ctx: ExchangeContext, message: string): void {
  ctx.link.sendJson({ type: "cancel", id: ctx.id, message });
}
