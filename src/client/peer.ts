// A client for WS /.webrtc, for browsers, Bun and Node: signs in with a WebCrypto
// Ed25519 key, keeps the room's presence, relays offers/answers/candidates/hangups,
// reconnects with backoff. Served to pages as GET /client/peer.js. Web APIs only.
import { authStatement } from "../identity/auth-statement.ts";
// Types only: nothing of the server's code ends up in the browser bundle.
import type { IceServer as PeerIceServer } from "../peers/ice-servers.ts";
import type { Relayed as RelayedSignal } from "../peers/protocol.ts";
import type { IceCandidateJson } from "../signal/protocol.ts";

export type { PeerIceServer, RelayedSignal, IceCandidateJson };

export interface PeerEvents {
  /** Signed in and in the room: everyone else there now (after every reconnect too). */
  peers: { you: string; peers: string[]; iceServers: PeerIceServer[] };
  "peer-joined": { peer: string };
  "peer-left": { peer: string };
  offer: Extract<RelayedSignal, { type: "offer" }>;
  answer: Extract<RelayedSignal, { type: "answer" }>;
  candidate: Extract<RelayedSignal, { type: "candidate" }>;
  hangup: Extract<RelayedSignal, { type: "hangup" }>;
  "ice-servers": { iceServers: PeerIceServer[] };
  /** The server refused something; `peer` is set for "peer not online". */
  error: { message: string; peer?: string };
  /** The socket closed; `reconnectInMs` is undefined when the client gives up. */
  close: { code: number; reason: string; reconnectInMs?: number };
}

export interface ConnectPeerOptions {
  /** The server: `https://host`, `wss://host` or the full `wss://host/.webrtc` URL. */
  url: string;
  room?: string;
  /** An Ed25519 key pair (see `generatePeerKey`); the public key must be extractable. */
  key: CryptoKeyPair;
  /** Reconnect after a lost connection (default true); never after "replaced" or a refused sign-in. */
  reconnect?: boolean;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** For runtimes without a global WebSocket. */
  WebSocket?: typeof WebSocket;
}

type Listener<K extends keyof PeerEvents> = (event: PeerEvents[K]) => void;

/** Closes after which reconnecting would only repeat the refusal. */
const FINAL_CLOSES = new Set([1008, 4001, 4003]);

/** A fresh Ed25519 key pair whose public half can be exported (for `connectPeer`). */
export function generatePeerKey(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as unknown as Promise<CryptoKeyPair>;
}

/** The key's identity as peers see it: 64 lowercase hex. */
export async function peerId(key: CryptoKeyPair): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.exportKey("raw", key.publicKey)));
}

/** Opens the connection; resolves once it is in the room (the first `peers`), rejects if the first attempt fails. */
export async function connectPeer(options: ConnectPeerOptions): Promise<PeerClient> {
  const client = new PeerClient(options, await peerId(options.key));
  await client.ready;
  return client;
}

export class PeerClient {
  /** Everyone else in the room, as last told. */
  readonly peers = new Set<string>();
  iceServers: PeerIceServer[] = [];
  readonly ready: Promise<void>;
  private readonly listeners = new Map<keyof PeerEvents, Set<Listener<any>>>();
  private readonly socketUrl: string;
  private ws?: WebSocket;
  private attempt = 0;
  private closed = false;
  private timer?: ReturnType<typeof setTimeout>;
  private settle?: { resolve: () => void; reject: (error: Error) => void };

  constructor(private readonly options: ConnectPeerOptions, readonly publicKey: string) {
    this.socketUrl = socketUrl(options.url, options.room ?? "lobby");
    this.ready = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.ready.catch(() => {}); // also reported through the promise connectPeer returns
    this.open();
  }

  on<K extends keyof PeerEvents>(type: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  offer(to: string, sdp: string): boolean {
    // Written in this order so the server can pass the SDP text on without escaping it again.
    return this.sendText(`{"type":"offer","to":${JSON.stringify(to)},"sdp":${JSON.stringify(sdp)}}`);
  }

  answer(to: string, sdp: string): boolean {
    return this.sendText(`{"type":"answer","to":${JSON.stringify(to)},"sdp":${JSON.stringify(sdp)}}`);
  }

  candidate(to: string, candidate: IceCandidateJson): boolean {
    return this.sendText(JSON.stringify({ type: "candidate", to, candidate }));
  }

  hangup(to: string): boolean {
    return this.sendText(JSON.stringify({ type: "hangup", to }));
  }

  /** Asks for fresh TURN credentials; they arrive as `ice-servers` and in `iceServers`. */
  refreshIceServers(): boolean {
    return this.sendText('{"type":"ice-servers"}');
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close(1000, "bye");
  }

  private sendText(text: string): boolean {
    if (this.ws?.readyState !== 1) return false;
    this.ws.send(text);
    return true;
  }

  private open(): void {
    const Socket = this.options.WebSocket ?? WebSocket;
    const ws = new Socket(this.socketUrl);
    this.ws = ws;
    ws.onmessage = (event) => void this.onMessage(ws, String(event.data));
    ws.onclose = (event) => this.onClose(ws, event.code, event.reason);
  }

  private async onMessage(ws: WebSocket, text: string): Promise<void> {
    let m: any;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    switch (m?.type) {
      case "challenge": {
        const statement = authStatement(new URL(this.socketUrl).host, String(m.nonce));
        const signature = await crypto.subtle.sign({ name: "Ed25519" }, this.options.key.privateKey, new TextEncoder().encode(statement));
        if (ws.readyState === 1) ws.send(JSON.stringify({ type: "auth", publicKey: this.publicKey, signature: base64url(new Uint8Array(signature)) }));
        return;
      }
      case "peers":
        this.attempt = 0;
        this.peers.clear();
        for (const p of m.peers) this.peers.add(p);
        this.iceServers = m.iceServers;
        this.emit("peers", { you: m.you, peers: m.peers, iceServers: m.iceServers });
        this.settle?.resolve();
        this.settle = undefined;
        return;
      case "peer-joined":
        this.peers.add(m.peer);
        return this.emit("peer-joined", { peer: m.peer });
      case "peer-left":
        this.peers.delete(m.peer);
        return this.emit("peer-left", { peer: m.peer });
      case "ice-servers":
        this.iceServers = m.iceServers;
        return this.emit("ice-servers", { iceServers: m.iceServers });
      case "offer":
      case "answer":
      case "candidate":
      case "hangup":
        return this.emit(m.type, m);
      case "error":
        return this.emit("error", m.peer === undefined ? { message: m.message } : { message: m.message, peer: m.peer });
    }
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    const { reconnect = true, minDelayMs = 500, maxDelayMs = 30_000 } = this.options;
    const retry = !this.closed && reconnect && !FINAL_CLOSES.has(code) && this.settle === undefined;
    // Half to all of an exponentially growing delay, so many clients do not return at once.
    const delay = retry ? Math.min(maxDelayMs, minDelayMs * 2 ** this.attempt++) * (0.5 + Math.random() / 2) : undefined;
    this.peers.clear();
    this.emit("close", { code, reason, reconnectInMs: delay });
    this.settle?.reject(new Error(`connection closed before entering the room (${code} ${reason})`));
    this.settle = undefined;
    if (delay !== undefined) this.timer = setTimeout(() => this.open(), delay);
  }

  private emit<K extends keyof PeerEvents>(type: K, event: PeerEvents[K]): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

function socketUrl(base: string, room: string): string {
  const url = new URL(base);
  url.protocol = url.protocol === "https:" || url.protocol === "wss:" ? "wss:" : "ws:";
  if (!url.pathname.endsWith("/.webrtc")) url.pathname = `${url.pathname.replace(/\/+$/, "")}/.webrtc`;
  url.search = `?room=${encodeURIComponent(room)}`;
  return url.href;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
