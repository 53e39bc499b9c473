// Peers for /.webrtc tests: WebCrypto Ed25519 keys and signed-in sockets.
import { authStatement } from "../../src/identity/auth-statement.ts";
import type { TestServer } from "./server.ts";
import { TestSocket, type Json } from "./ws-client.ts";

export interface TestKey {
  /** The public key as 64 lowercase hex: the peer's id. */
  id: string;
  sign(text: string): Promise<string>;
}

export async function newKey(): Promise<TestKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const id = Buffer.from(await crypto.subtle.exportKey("raw", pair.publicKey)).toString("hex");
  const sign = async (text: string) => Buffer.from(await crypto.subtle.sign("Ed25519", pair.privateKey, new TextEncoder().encode(text))).toString("base64url");
  return { id, sign };
}

export function peersUrl(srv: TestServer, room?: string): string {
  return `${srv.url.replace(/^http/, "ws")}/.webrtc${room === undefined ? "" : `?room=${encodeURIComponent(room)}`}`;
}

/** The auth frame answering `socket`'s challenge, signed for `host` (by default the one dialed). */
export async function authFrame(socket: TestSocket, key: TestKey, host = new URL(socket.ws.url).host): Promise<Json> {
  const nonce = await socket.challenge;
  return { type: "auth", publicKey: key.id, signature: await key.sign(authStatement(host, nonce)) };
}

export interface TestPeer {
  socket: TestSocket;
  key: TestKey;
  /** The `peers` message it got on entering. */
  entered: Json;
}

/** A socket signed in with `key` (a fresh one by default) and in `room`. */
export async function enterRoom(srv: TestServer, room?: string, key?: TestKey): Promise<TestPeer> {
  const k = key ?? (await newKey());
  const socket = await TestSocket.open(peersUrl(srv, room));
  socket.send(await authFrame(socket, k));
  await socket.next({ type: "authenticated" });
  const entered = await socket.next({ type: "peers" });
  return { socket, key: k, entered };
}
