// The /.tunnel wire format: JSON text frames for control, binary frames for
// bytes (see docs/tunnel-protocol.md). Shared by the broker and the client.

/** Tunnel names: lowercase letters, digits and dashes, 1 to 63 long (a DNS label). */
export const TUNNEL_NAME = /^[a-z0-9-]{1,63}$/;

/**
 * Largest payload of one binary frame either side sends: well below the websocket frame cap
 * (about twice the 64 KiB message limit), and small enough that a big body's frame ahead of a
 * small answer delays it by well under a millisecond.
 */
export const MAX_CHUNK_BYTES = 64 * 1024;

/** Largest payload the broker accepts: clients built before the 64 KiB frames sent 128 KiB. */
export const MAX_INBOUND_CHUNK_BYTES = 128 * 1024;

/**
 * Body frames smaller than this wait for more credit while there is more to send: sending
 * every sliver of credit makes slivers of frames, whose grants come back as slivers (the
 * silly window), and a download turns into thousands of 200-byte frames.
 */
export const SMALL_FRAME_BYTES = 16 * 1024;

/** How many of `remaining` bytes one body frame carries with `credit` to spend; 0: wait for credit. */
export function bodyFrameBytes(credit: number, remaining: number): number {
  const want = Math.min(remaining, MAX_CHUNK_BYTES);
  return credit >= Math.min(want, SMALL_FRAME_BYTES) ? Math.min(credit, want) : 0;
}

/**
 * Whether the receiver of a body owes the sender a `credit` now: in batches of a quarter
 * window, and once its queue is empty for whatever is 16 KiB or more — never a sliver, which
 * would come back as a sliver of a frame. What it holds back (under 16 KiB) cannot stall the
 * sender: its window is at least 64 KiB, so it still has 48 KiB of credit.
 */
export function creditDue(ungranted: number, window: number, queueEmpty: boolean): boolean {
  return ungranted >= window / 4 || (queueEmpty && ungranted >= SMALL_FRAME_BYTES);
}

/** Largest control (JSON text) frame of a streaming client: a response head. */
export const MAX_CONTROL_BYTES = 64 * 1024;

/** JSS's own bound on a body carried inside a JSON frame. */
export const JSS_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * A JSS response frame carrying the most JSS allows: that body as base64, plus its head.
 * Bun's frame cap bounds it further: by default a JSS response frame must fit the
 * server's usual cap (128 KiB); bigger ones need --max-frame-bytes.
 */
export const JSS_MAX_FRAME_BYTES = Math.ceil(JSS_MAX_BODY_BYTES / 3) * 4 + MAX_CONTROL_BYTES;

/**
 * Binary frame kinds: byte 0 of the frame, then the request id (uint32, big-endian), then the payload.
 * `whole` is a complete small response in one frame: a uint32 length, that many bytes of
 * head JSON `{status, headers}`, then the body (at most MAX_CHUNK_BYTES).
 */
export const FRAME = { body: 1, wsText: 2, wsBinary: 3, whole: 4 } as const;
export type FrameKind = (typeof FRAME)[keyof typeof FRAME];
export const FRAME_HEADER_BYTES = 5;
/** The largest binary frame either side sends: its header and at most MAX_CHUNK_BYTES (a `whole` frame's head counts against them). */
export const MAX_BINARY_FRAME_BYTES = FRAME_HEADER_BYTES + MAX_CHUNK_BYTES;
/** The largest binary frame the broker takes: clients built before the 64 KiB frames send 128 KiB. */
export const MAX_INBOUND_FRAME_BYTES = FRAME_HEADER_BYTES + MAX_INBOUND_CHUNK_BYTES;

export type ResponseHeaders = Record<string, string | string[]>;

export interface RegisterOptions {
  /** Binary framing with flow control; without it, JSS's JSON framing. */
  stream?: boolean;
  /** Forward the visitor's Cookie and Authorization, and the service's Set-Cookie. */
  passthrough?: boolean;
  /** The client takes growing windows: `window` on requests and credits, and `blocked` frames. */
  grow?: boolean;
  /** `basic:<user>:<pass>`: visitors must send these credentials. */
  auth?: string;
  /** Visitors must prove (GemmaPod-Ed25519 Authorization) a key starting with one of these hex prefixes. */
  allowKeys?: string[];
}

/** What a tunnel client may send. */
export type ClientMessage =
  | { type: "auth"; publicKey: unknown; signature: unknown }
  | ({ type: "register"; name: string } & RegisterOptions)
  /** JSS framing: the whole response at once. */
  | { type: "response"; id: number; status: number; headers: ResponseHeaders; body?: string; bodyEncoding?: "base64" | "utf8" }
  /** Streaming: the response head (101 accepts a websocket); body frames follow. */
  | { type: "head"; id: number; status: number; headers: ResponseHeaders }
  | { type: "end"; id: number }
  | { type: "cancel"; id: number; message?: string }
  /** The client took `bytes` more of a request body: the broker may send that much more; `window` when it grew. */
  | { type: "credit"; id: number; bytes: number; window?: number }
  /** Growing windows: out of credit for the response body, knowing a window of `window` bytes. */
  | { type: "blocked"; id: number; window: number }
  /** Growing windows: a round-trip probe (path-rtt.ts), answered by `pong` with the same `at`. */
  | { type: "ping"; at: number }
  | { type: "pong"; at: number }
  | { type: "ws-close"; id: number; code?: number; reason?: string };

/** What the broker sends. */
export type ServerMessage =
  | { type: "challenge"; nonce: string }
  | { type: "authenticated"; publicKey: string }
  | { type: "registered"; name: string; url: string; window?: number; maxWindow?: number }
  /**
   * Growing windows: `window` is the response body's first window, `bodyWindow` the request body's
   * (the largest the client granted on this tunnel); else both are the registered one.
   */
  | { type: "request"; id: number; method: string; path: string; headers: Record<string, string>; body?: string; bodyEncoding?: "base64"; hasBody?: boolean; upgrade?: "websocket"; window?: number; bodyWindow?: number }
  | { type: "end"; id: number }
  | { type: "cancel"; id: number; message: string }
  | { type: "credit"; id: number; bytes: number; window?: number }
  | { type: "blocked"; id: number; window: number }
  | { type: "ping"; at: number }
  | { type: "pong"; at: number }
  | { type: "ws-close"; id: number; code: number; reason: string }
  | { type: "error"; message: string; id?: number };

export type Parsed<T> = { ok: true; message: T } | { ok: false; error: string; id?: number };

const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
const isSize = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 2 ** 40;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Validates one client text frame. Never throws. */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: "invalid json" };
  }
  if (!isObject(value)) return { ok: false, error: "message must be a JSON object" };
  const error = problemWith(value);
  if (error === null) return { ok: true, message: value as ClientMessage };
  return { ok: false, error, id: isId(value.id) ? value.id : undefined };
}

function problemWith(m: Record<string, unknown>): string | null {
  switch (m.type) {
    case "auth":
      return null; // the AuthGate checks its fields
    case "register":
      return registerProblem(m);
    case "response":
    case "head":
      if (!isId(m.id)) return `${m.type} needs a numeric id`;
      if (!Number.isInteger(m.status)) return `${m.type} needs an integer status`;
      if (!isObject(m.headers)) return `${m.type} needs a headers object`;
      if (m.type === "head") return null;
      if (m.body !== undefined && m.body !== null && typeof m.body !== "string") return "response body must be a string";
      if (m.bodyEncoding !== undefined && m.bodyEncoding !== "base64" && m.bodyEncoding !== "utf8") return 'bodyEncoding must be "base64" or "utf8"';
      return null;
    case "end":
      return isId(m.id) ? null : "end needs a numeric id";
    case "cancel":
      if (!isId(m.id)) return "cancel needs a numeric id";
      return m.message === undefined || typeof m.message === "string" ? null : "cancel message must be a string";
    case "credit":
      if (!isId(m.id)) return "credit needs a numeric id";
      if (m.window !== undefined && !isSize(m.window)) return "credit window must be a positive integer";
      return Number.isInteger(m.bytes) && (m.bytes as number) > 0 ? null : "credit needs a positive integer bytes";
    case "ping":
    case "pong":
      return Number.isFinite(m.at) ? null : `${m.type} needs a numeric at`;
    case "blocked":
      if (!isId(m.id)) return "blocked needs a numeric id";
      return isSize(m.window) ? null : "blocked needs a positive integer window";
    case "ws-close":
      if (!isId(m.id)) return "ws-close needs a numeric id";
      if (m.code !== undefined && !Number.isInteger(m.code)) return "ws-close code must be an integer";
      return m.reason === undefined || typeof m.reason === "string" ? null : "ws-close reason must be a string";
    default:
      return typeof m.type === "string" ? `unknown message type ${JSON.stringify(m.type.slice(0, 40))}` : "message needs a type";
  }
}

function registerProblem(m: Record<string, unknown>): string | null {
  if (typeof m.name !== "string" || !TUNNEL_NAME.test(m.name)) return "register needs a name of 1-63 characters a-z, 0-9 and -";
  for (const flag of ["stream", "passthrough", "grow"] as const) {
    if (m[flag] !== undefined && typeof m[flag] !== "boolean") return `${flag} must be true or false`;
  }
  if (m.auth !== undefined && (typeof m.auth !== "string" || !/^basic:[^:]+:.+$/.test(m.auth) || m.auth.length > 512)) return 'auth must be "basic:<user>:<password>"';
  if (m.allowKeys !== undefined) {
    const keys = m.allowKeys;
    if (!Array.isArray(keys) || keys.length === 0 || keys.length > 256 || !keys.every((k) => typeof k === "string" && /^[0-9a-fA-F]{1,64}$/.test(k))) {
      return "allowKeys must be a list of 1-256 hex key prefixes";
    }
  }
  return null;
}

/** A binary frame: kind, request id, payload. */
export function encodeFrame(kind: FrameKind, id: number, payload: Uint8Array): Uint8Array {
  // Every byte is written below: no zero-filling a gigabyte of uploads first.
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.byteLength);
  frame[0] = kind;
  frame.writeUInt32BE(id, 1);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

export function decodeFrame(frame: Uint8Array): Parsed<{ kind: FrameKind; id: number; payload: Uint8Array }> {
  if (frame.byteLength < FRAME_HEADER_BYTES) return { ok: false, error: "binary frame shorter than its 5-byte header" };
  const kind = frame[0]!;
  if (kind < FRAME.body || kind > FRAME.whole) return { ok: false, error: `unknown binary frame kind ${kind}` };
  const id = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(1);
  return { ok: true, message: { kind: kind as FrameKind, id, payload: frame.subarray(FRAME_HEADER_BYTES) } };
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Whether a response with this head and a body of `bodyBytes` fits one `whole` frame (else: head, then body frames). */
export function wholeFits(head: { status: number; headers: ResponseHeaders }, bodyBytes: number): boolean {
  return FRAME_HEADER_BYTES + 4 + utf8.encode(JSON.stringify(head)).byteLength + bodyBytes <= MAX_BINARY_FRAME_BYTES;
}

/** A `whole` frame: a complete response (head and a small body) in one message. */
export function encodeWhole(id: number, head: { status: number; headers: ResponseHeaders }, body: Uint8Array): Uint8Array {
  const json = utf8.encode(JSON.stringify(head));
  const frame = new Uint8Array(FRAME_HEADER_BYTES + 4 + json.byteLength + body.byteLength);
  const view = new DataView(frame.buffer);
  frame[0] = FRAME.whole;
  view.setUint32(1, id);
  view.setUint32(FRAME_HEADER_BYTES, json.byteLength);
  frame.set(json, FRAME_HEADER_BYTES + 4);
  frame.set(body, FRAME_HEADER_BYTES + 4 + json.byteLength);
  return frame;
}

export function decodeWhole(payload: Uint8Array): Parsed<{ status: number; headers: ResponseHeaders; body: Uint8Array }> {
  if (payload.byteLength < 4) return { ok: false, error: "whole frame shorter than its head length" };
  const length = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0);
  if (length > payload.byteLength - 4 || length > MAX_CONTROL_BYTES) return { ok: false, error: "whole frame head length out of range" };
  let head: unknown;
  try {
    head = JSON.parse(utf8Decoder.decode(payload.subarray(4, 4 + length)));
  } catch {
    return { ok: false, error: "whole frame head is not valid JSON" };
  }
  if (!isObject(head)) return { ok: false, error: "whole frame head must be a JSON object" };
  const problem = problemWith({ ...head, type: "head", id: 0 });
  if (problem) return { ok: false, error: `whole frame: ${problem}` };
  return { ok: true, message: { status: head.status as number, headers: head.headers as ResponseHeaders, body: payload.subarray(4 + length) } };
}
