// The peer signaling wire format (JSON text frames on WS /.webrtc?room=<name>).
// Peers are Ed25519 public keys (64 lowercase hex); the server sets every `from`.

import { jsonObject } from "../http/json-frame.ts";
import { isCandidate, type IceCandidateJson } from "../signal/protocol.ts";
import type { IceServer } from "./ice-servers.ts";

export type IceCandidateInit = IceCandidateJson;

/** What a peer sends another through the server. */
export type RelayRequest =
  | { type: "offer" | "answer"; to: string; sdp: string }
  | { type: "candidate"; to: string; candidate: IceCandidateInit }
  | { type: "hangup"; to: string };

/** Messages a client may send. */
export type PeerClientMessage =
  | { type: "auth"; publicKey: unknown; signature: unknown }
  /** Fresh TURN credentials for a long stay (they expire after --turn-ttl). */
  | { type: "ice-servers" }
  | RelayRequest;

/** What the addressed peer receives: the request with `from` instead of `to`. */
export type Relayed =
  | { type: "offer" | "answer"; from: string; sdp: string }
  | { type: "candidate"; from: string; candidate: IceCandidateInit }
  | { type: "hangup"; from: string };

/** Messages the server sends. */
export type PeerServerMessage =
  | { type: "challenge"; nonce: string }
  | { type: "authenticated"; publicKey: string }
  | { type: "peers"; you: string; peers: string[]; iceServers: IceServer[] }
  | { type: "peer-joined" | "peer-left"; peer: string; webId: string }
  | { type: "ice-servers"; iceServers: IceServer[] }
  | Relayed
  | { type: "error"; message: string; peer?: string };

export type PeerParseResult = { ok: true; message: PeerClientMessage } | { ok: false; error: string };

/** Room names that may appear in `?room=`: short, printable, safe in topic names. */
export const ROOM_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const DEFAULT_ROOM = "lobby";

const PEER_KEY = /^[0-9a-fA-F]{64}$/;
const LOWERCASE_KEY = /^[0-9a-f]{64}$/;

/** Validates one text frame. Never throws: hostile input becomes an error result. */
export function parsePeerMessage(text: string): PeerParseResult {
  const m = jsonObject(text);
  if (typeof m === "string") return { ok: false, error: m };
  const error = problemWith(m);
  if (error !== null) return { ok: false, error };
  // Keys have one spelling from here on, whatever case the client wrote.
  if (typeof m.to === "string" && !LOWERCASE_KEY.test(m.to)) m.to = m.to.toLowerCase();
  return { ok: true, message: m as PeerClientMessage };
}

/** What is wrong with a decoded frame, or null if it is a valid client message. */
function problemWith(m: Record<string, unknown>): string | null {
  switch (m.type) {
    case "auth":
    case "ice-servers":
      return null;
    case "offer":
    case "answer":
      if (!isKey(m.to)) return `${m.type} needs to: the addressed peer's public key (64 hex characters)`;
      return typeof m.sdp === "string" ? null : `${m.type} needs an sdp string`;
    case "candidate":
      if (!isKey(m.to)) return "candidate needs to: the addressed peer's public key (64 hex characters)";
      return isCandidate(m.candidate) ? null : "candidate needs a candidate object with a candidate string";
    case "hangup":
      return isKey(m.to) ? null : "hangup needs to: the addressed peer's public key (64 hex characters)";
    case undefined:
      return "message needs a string field type";
    default:
      return typeof m.type === "string" ? `unknown message type ${JSON.stringify(m.type.slice(0, 32))}` : "type must be a string";
  }
}

function isKey(v: unknown): v is string {
  return typeof v === "string" && PEER_KEY.test(v);
}
