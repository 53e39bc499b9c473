// STUN messages (RFC 8489): the header, attributes, XOR-MAPPED-ADDRESS and FINGERPRINT.
// Decoding never throws: anything malformed is null.

export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_BYTES = 20;
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;
export const ATTR = { MAPPED_ADDRESS: 0x0001, USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009, REALM: 0x0014, NONCE: 0x0015, XOR_RELAYED_ADDRESS: 0x0016, REQUESTED_TRANSPORT: 0x0019, XOR_MAPPED_ADDRESS: 0x0020, LIFETIME: 0x000d, SOFTWARE: 0x8022, FINGERPRINT: 0x8028 } as const;

const FINGERPRINT_XOR = 0x5354554e;

export interface StunAttribute {
  type: number;
  value: Uint8Array;
}

export interface StunMessage {
  type: number;
  transactionId: Uint8Array;
  attributes: StunAttribute[];
}

export interface TransportAddress {
  family: "IPv4" | "IPv6";
  address: string;
  port: number;
}

/** A well-formed STUN message whose FINGERPRINT, if present, is right; otherwise null. */
export function decodeStun(packet: Uint8Array): StunMessage | null {
  if (packet.length < HEADER_BYTES || packet.length % 4 !== 0) return null;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const type = view.getUint16(0);
  if (type & 0xc000 || view.getUint16(2) !== packet.length - HEADER_BYTES || view.getUint32(4) !== MAGIC_COOKIE) return null;
  const attributes: StunAttribute[] = [];
  for (let at = HEADER_BYTES; at < packet.length; ) {
    if (at + 4 > packet.length) return null;
    const attrType = view.getUint16(at);
    const length = view.getUint16(at + 2);
    const end = at + 4 + length;
    if (end > packet.length) return null;
    if (attrType === ATTR.FINGERPRINT) {
      // Always last, and over everything before it.
      if (length !== 4 || end !== packet.length || view.getUint32(at + 4) !== fingerprint(packet.subarray(0, at))) return null;
    }
    attributes.push({ type: attrType, value: packet.slice(at + 4, end) });
    at = end + ((4 - (length % 4)) % 4);
  }
  return { type, transactionId: packet.slice(8, HEADER_BYTES), attributes };
}

/** The message's bytes; with `withFingerprint`, a FINGERPRINT attribute closes it. */
export function encodeStun(message: StunMessage, withFingerprint: boolean): Uint8Array {
  const body = message.attributes.reduce((n, a) => n + 4 + padded(a.value.length), 0);
  const total = HEADER_BYTES + body + (withFingerprint ? 8 : 0);
  const packet = new Uint8Array(total);
  const view = new DataView(packet.buffer);
  view.setUint16(0, message.type);
  view.setUint16(2, total - HEADER_BYTES);
  view.setUint32(4, MAGIC_COOKIE);
  packet.set(message.transactionId, 8);
  let at = HEADER_BYTES;
  for (const a of message.attributes) {
    view.setUint16(at, a.type);
    view.setUint16(at + 2, a.value.length);
    packet.set(a.value, at + 4);
    at += 4 + padded(a.value.length);
  }
  if (withFingerprint) {
    view.setUint16(at, ATTR.FINGERPRINT);
    view.setUint16(at + 2, 4);
    view.setUint32(at + 4, fingerprint(packet.subarray(0, at)));
  }
  return packet;
}

/** An XOR-MAPPED-ADDRESS (or XOR-RELAYED-ADDRESS) value; null for an address that is not an IP. */
export function xorAddress(address: Omit<TransportAddress, "family">, transactionId: Uint8Array): Uint8Array | null {
  const ip = ipBytes(address.address);
  if (!ip) return null;
  const value = new Uint8Array(4 + ip.length);
  const view = new DataView(value.buffer);
  value[1] = ip.length === 4 ? 0x01 : 0x02;
  view.setUint16(2, address.port ^ (MAGIC_COOKIE >>> 16));
  const mask = xorMask(transactionId);
  for (let i = 0; i < ip.length; i++) value[4 + i] = ip[i]! ^ mask[i]!;
  return value;
}

export function parseXorAddress(value: Uint8Array, transactionId: Uint8Array): TransportAddress | null {
  const family = value[1];
  const length = family === 0x01 ? 4 : family === 0x02 ? 16 : 0;
  if (!length || value.length !== 4 + length) return null;
  const port = new DataView(value.buffer, value.byteOffset).getUint16(2) ^ (MAGIC_COOKIE >>> 16);
  const mask = xorMask(transactionId);
  const ip = value.subarray(4).map((b, i) => b ^ mask[i]!);
  const address = length === 4 ? ip.join(".") : Array.from({ length: 8 }, (_, i) => ((ip[2 * i]! << 8) | ip[2 * i + 1]!).toString(16)).join(":");
  return { family: length === 4 ? "IPv4" : "IPv6", address, port };
}

/** The cookie, then the transaction id: what addresses are XORed with. */
function xorMask(transactionId: Uint8Array): Uint8Array {
  const mask = new Uint8Array(16);
  new DataView(mask.buffer).setUint32(0, MAGIC_COOKIE);
  mask.set(transactionId, 4);
  return mask;
}

/** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6, or null. */
function ipBytes(text: string): Uint8Array | null {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((p) => p <= 255) ? new Uint8Array(parts) : null;
  }
  const halves = text.split("::");
  if (halves.length > 2 || !/^[0-9a-f:]+$/i.test(text)) return null;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return null;
  const all = [...head, ...Array(fill).fill("0"), ...tail];
  if (all.some((g) => g.length === 0 || g.length > 4)) return null;
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => new DataView(bytes.buffer).setUint16(2 * i, parseInt(g, 16)));
  return bytes;
}

function padded(n: number): number {
  return n + ((4 - (n % 4)) % 4);
}

/** CRC-32 of the message so far, XORed with "STUN" (RFC 8489 §14.7). */
function fingerprint(bytes: Uint8Array): number {
  return (Bun.hash.crc32(bytes) ^ FINGERPRINT_XOR) >>> 0;
}
