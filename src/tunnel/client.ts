// The tunnel client: exposes a local HTTP server through a broker's /.tunnel.
import * as ed from "@noble/ed25519";
import type { OwnerKey } from "../client/origin-auth.ts";
import { authStatement } from "../identity/auth-statement.ts";
import { ClientExchange, HttpExchange, SocketExchange, type ClientLink, type RequestLog, type RequestMessage } from "./client-request.ts";
import { decodeFrame, type RegisterOptions } from "./protocol.ts";
import { PathRtt } from "./path-rtt.ts";
import { WindowBudget } from "./window.ts";

export interface TunnelClientOptions extends Omit<RegisterOptions, "stream"> {
  /** The broker, e.g. https://pods.example.com. */
  server: string;
  name: string;
  /** The local server, e.g. http://127.0.0.1:11434. */
  to: string;
  key: OwnerKey;
  onRegistered?(url: string): void;
  onRequest?(log: RequestLog): void;
  /** The tunnel dropped; it reconnects after `retryInMs`. */
  onDisconnected?(reason: string, retryInMs: number): void;
  /** The broker refused this tunnel for good (name taken, bad key): no reconnecting. */
  onRefused?(message: string): void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface TunnelClient {
  /** The public URL, once first registered (rejects if refused). */
  readonly ready: Promise<string>;
  close(): void;
}

/** Past this many bytes waiting in the socket, body frames wait: a small answer queues behind them. */
const HIGH_WATER = 512 * 1024;
/** How often a backed-up socket is looked at again (the WebSocket API has no drain event). */
const DRAIN_POLL_MS = 1;
/** What request-body windows of this client may grow by together. */
const CLIENT_WINDOW_MEMORY = 64 * 1024 * 1024;

/** Errors that reconnecting will not fix. */
const FINAL = /belongs to another key|limit of \d+ tunnel names|signature does not verify|auth needs|register needs/;

/** Connects, signs in, registers, and keeps the tunnel up (reconnecting with backoff) until closed. */
export function startTunnel(options: TunnelClientOptions): TunnelClient {
  const server = new URL(options.server);
  const wsUrl = `${server.protocol === "https:" ? "wss:" : "ws:"}//${server.host}/.tunnel`;
  const to = options.to.replace(/\/+$/, "");
  const minBackoff = options.minBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  let backoff = minBackoff;
  let stopped = false;
  let current: WebSocket | undefined;
  let retry: Timer | undefined;
  let resolveReady!: (url: string) => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<string>((resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)));
  ready.catch(() => {});

  const connect = () => {
    const ws = (current = new WebSocket(wsUrl));
    ws.binaryType = "arraybuffer";
    const exchanges = new Map<number, ClientExchange>();
    let drained: Promise<void> | undefined;
    const link: ClientLink = {
      send: (frame) => ws.readyState === 1 && ws.send(frame),
      writable: () => ws.bufferedAmount < HIGH_WATER || ws.readyState !== 1,
      // One poll for every waiting body.
      drained: () =>
        (drained ??= new Promise<void>((resolve) => {
          const check = () => (link.writable() ? ((drained = undefined), resolve()) : setTimeout(check, DRAIN_POLL_MS));
          setTimeout(check, DRAIN_POLL_MS);
        })),
      window: 0,
      maxWindow: 0,
    };
    const finished = (id: number, log: RequestLog) => {
      exchanges.delete(id);
      options.onRequest?.(log);
    };
    let registered = false;

    ws.onmessage = async (event) => {
      if (typeof event.data !== "string") {
        const frame = decodeFrame(new Uint8Array(event.data as ArrayBuffer));
        if (frame.ok) exchanges.get(frame.message.id)?.onFrame(frame.message.kind, frame.message.payload);
        return;
      }
      let m: Record<string, any>;
      try {
        m = JSON.parse(event.data);
      } catch {
        return;
      }
      switch (m.type) {
        case "challenge": {
          const signature = await ed.signAsync(new TextEncoder().encode(authStatement(server.host, String(m.nonce))), Buffer.from(options.key.secretKey, "hex"));
          return ws.send(JSON.stringify({ type: "auth", publicKey: options.key.publicKey, signature: Buffer.from(signature).toString("base64url") }));
        }
        case "authenticated": {
          const { passthrough, auth, allowKeys } = options;
          return ws.send(JSON.stringify({ type: "register", name: options.name, stream: true, grow: true, passthrough, auth, allowKeys }));
        }
        case "registered": {
          registered = true;
          link.window = Number(m.window) || 64 * 1024;
          // A broker that grows windows says how far; an older one keeps every window fixed.
          link.maxWindow = Number(m.maxWindow) > link.window ? Number(m.maxWindow) : 0;
          link.budget = link.maxWindow ? new WindowBudget(CLIENT_WINDOW_MEMORY) : undefined;
          link.rtt = link.maxWindow ? new PathRtt() : undefined;
          const ping = link.rtt?.ping();
          if (ping) ws.send(JSON.stringify(ping));
          backoff = minBackoff;
          resolveReady(m.url);
          return options.onRegistered?.(m.url);
        }
        case "request": {
          const r = m as RequestMessage;
          // Only paths on the local server: "@host" or "//host" would send the request elsewhere.
          if (typeof r.path !== "string" || !r.path.startsWith("/") || r.path.startsWith("//")) {
            return ws.send(JSON.stringify({ type: "cancel", id: r.id, message: "path must start with a single /" }));
          }
          return void exchanges.set(r.id, r.upgrade === "websocket" ? new SocketExchange(link, r, to, finished) : new HttpExchange(link, r, to, finished));
        }
        case "end":
          return exchanges.get(m.id)?.onEnd();
        case "credit":
          return exchanges.get(m.id)?.onCredit(Number(m.bytes), m.window === undefined ? undefined : Number(m.window));
        case "ping":
          return ws.send(JSON.stringify({ type: "pong", at: m.at }));
        case "pong":
          return link.rtt?.pong(m.at);
        case "blocked":
          return exchanges.get(m.id)?.onBlocked(Number(m.window));
        case "cancel":
          return exchanges.get(m.id)?.cancel();
        case "ws-close":
          return exchanges.get(m.id)?.onClose(Number(m.code), String(m.reason ?? ""));
        case "error":
          if (m.id !== undefined || registered) return;
          if (FINAL.test(String(m.message))) {
            stopped = true;
            rejectReady(new Error(String(m.message)));
            options.onRefused?.(String(m.message));
            ws.close();
          }
      }
    };
    ws.onclose = (event) => {
      for (const exchange of exchanges.values()) exchange.cancel();
      exchanges.clear();
      if (stopped) return;
      // Another client took the name with this key (this one's own reconnects come after its
      // socket closed): two clients must not take it from each other in turn.
      if (event.code === 4001) {
        stopped = true;
        rejectReady(new Error("replaced by another tunnel client"));
        return options.onRefused?.("another tunnel client registered this name with the same key; this one stops");
      }
      const wait = Math.round(backoff * (0.75 + Math.random() / 2));
      backoff = Math.min(maxBackoff, backoff * 2);
      options.onDisconnected?.(`closed ${event.code}${event.reason ? ` ${event.reason}` : ""}`, wait);
      retry = setTimeout(connect, wait);
    };
  };
  connect();

  return {
    ready,
    close() {
      stopped = true;
      clearTimeout(retry);
      current?.close(1000, "tunnel client closing");
      rejectReady(new Error("tunnel closed"));
    },
  };
}
