import type { ServerWebSocket } from "bun";
import { authStatement } from "./auth-statement.ts";
import { verifyEd25519 } from "./ed25519.ts";
import { newNonce, parsePublicKeyHex, parseSignatureBase64url } from "./encoding.ts";

/** Per-socket sign-in state, kept in the socket's data. */
export interface AuthState {
  nonce: string;
  /** The host this server answers to for this socket (see `authHost`). */
  host: string;
  /** Lowercase hex, once signed in. */
  publicKey?: string;
  /** An `auth` frame is being verified. */
  checking?: boolean;
  timer?: Timer;
}

/** The host a client must have signed: --public-url's when set, else the upgrade's Host header. */
export function authHost(req: Request, publicUrl: string | undefined): string | null {
  if (publicUrl) return new URL(publicUrl).host;
  const host = req.headers.get("host");
  return host && host.length <= 255 ? host.toLowerCase() : null;
}

export function newAuthState(host: string): AuthState {
  return { nonce: newNonce(), host };
}

type Sender = (ws: ServerWebSocket<{ auth: AuthState }>, message: Record<string, unknown>) => void;

/**
 * The challenge/auth exchange every key-addressed socket (/.webrtc, /.tunnel)
 * starts with. Frames reach the protocol only after `authenticated`.
 */
export class AuthGate<T extends { auth: AuthState }> {
  constructor(
    private readonly options: {
      timeoutMs: number;
      send: Sender;
      onAuthenticated: (ws: ServerWebSocket<T>, publicKey: string) => void;
    },
  ) {}

  open(ws: ServerWebSocket<T>): void {
    const { auth } = ws.data;
    this.options.send(ws, { type: "challenge", nonce: auth.nonce });
    auth.timer = setTimeout(() => this.refuse(ws, "authentication timed out"), this.options.timeoutMs);
  }

  close(ws: ServerWebSocket<T>): void {
    clearTimeout(ws.data.auth.timer);
  }

  /** True when the gate took the frame (sign-in, or anything before it): the protocol must not act on it. */
  take(ws: ServerWebSocket<T>, message: { type: string; publicKey?: unknown; signature?: unknown }): boolean {
    const { auth } = ws.data;
    if (message.type === "auth") {
      if (auth.publicKey !== undefined || auth.checking) this.refuse(ws, "already authenticated");
      else void this.verify(ws, message.publicKey, message.signature);
      return true;
    }
    if (auth.publicKey !== undefined) return false;
    this.options.send(ws, { type: "error", message: auth.checking ? "authentication in progress" : "authenticate first" });
    return true;
  }

  private async verify(ws: ServerWebSocket<T>, publicKeyText: unknown, signatureText: unknown): Promise<void> {
    const { auth } = ws.data;
    const key = parsePublicKeyHex(publicKeyText);
    if (!key) return this.refuse(ws, "auth needs publicKey: 64 hex characters (an Ed25519 public key)");
    const signature = parseSignatureBase64url(signatureText);
    if (!signature) return this.refuse(ws, "auth needs signature: 86 characters of canonical base64url (64 bytes)");
    auth.checking = true;
    const ok = await verifyEd25519(key, signature, new TextEncoder().encode(authStatement(auth.host, auth.nonce)));
    auth.checking = false;
    if (ws.readyState !== 1) return;
    if (!ok) return this.refuse(ws, `signature does not verify: sign "gemmapod-auth:<host>:<nonce>" with the host you dialed (${auth.host})`);
    clearTimeout(auth.timer);
    auth.publicKey = (publicKeyText as string).toLowerCase();
    this.options.send(ws, { type: "authenticated", publicKey: auth.publicKey });
    this.options.onAuthenticated(ws, auth.publicKey);
  }

  private refuse(ws: ServerWebSocket<T>, message: string): void {
    clearTimeout(ws.data.auth.timer);
    if (ws.readyState !== 1) return;
    this.options.send(ws, { type: "error", message });
    ws.close(4003, "not authenticated");
  }
}
