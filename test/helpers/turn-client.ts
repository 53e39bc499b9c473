// The two steps of a TURN Allocate (RFC 8656) with long-term credentials: the
// unauthenticated request earns a 401 with REALM and NONCE, the second carries
// USERNAME, REALM, NONCE and MESSAGE-INTEGRITY keyed by MD5(username:realm:password).
import { createHash, createHmac } from "node:crypto";
import { ATTR, decodeStun, encodeStun, parseXorAddress, type StunAttribute, type StunMessage, type TransportAddress } from "../../src/stun/message.ts";
import { UdpClient } from "./udp-client.ts";

const ALLOCATE = 0x0003;
const ALLOCATE_SUCCESS = 0x0103;
const UDP = Uint8Array.of(17, 0, 0, 0);
const text = (s: string) => new TextEncoder().encode(s);

export type AllocateResult = { ok: true; relayed: TransportAddress } | { ok: false; code: number; reason: string };

function withIntegrity(message: StunMessage, key: Uint8Array): Uint8Array {
  const packet = encodeStun({ ...message, attributes: [...message.attributes, { type: ATTR.MESSAGE_INTEGRITY, value: new Uint8Array(20) }] }, false);
  // Over everything before the attribute, with the length already counting it.
  packet.set(createHmac("sha1", key).update(packet.subarray(0, packet.length - 24)).digest(), packet.length - 20);
  return packet;
}

function attribute(m: StunMessage, type: number): Uint8Array | undefined {
  return m.attributes.find((a) => a.type === type)?.value;
}

function errorOf(m: StunMessage): { code: number; reason: string } {
  const v = attribute(m, ATTR.ERROR_CODE);
  if (!v) return { code: 0, reason: `response type 0x${m.type.toString(16)}` };
  return { code: (v[2]! & 7) * 100 + v[3]!, reason: new TextDecoder().decode(v.subarray(4)) };
}

export async function allocate(port: number, username: string, password: string): Promise<AllocateResult> {
  const client = await UdpClient.open();
  try {
    const ask = async (packet: Uint8Array) => decodeStun(await client.ask(packet, port))!;
    const first = await ask(encodeStun({ type: ALLOCATE, transactionId: crypto.getRandomValues(new Uint8Array(12)), attributes: [{ type: ATTR.REQUESTED_TRANSPORT, value: UDP }] }, false));
    const challenge = errorOf(first);
    if (challenge.code !== 401) return { ok: false, ...challenge };
    const realm = attribute(first, ATTR.REALM)!;
    const nonce = attribute(first, ATTR.NONCE)!;
    const key = createHash("md5").update(`${username}:${new TextDecoder().decode(realm)}:${password}`).digest();
    const id = crypto.getRandomValues(new Uint8Array(12));
    const attributes: StunAttribute[] = [
      { type: ATTR.REQUESTED_TRANSPORT, value: UDP },
      { type: ATTR.USERNAME, value: text(username) },
      { type: ATTR.REALM, value: realm },
      { type: ATTR.NONCE, value: nonce },
    ];
    const answer = await ask(withIntegrity({ type: ALLOCATE, transactionId: id, attributes }, key));
    if (answer.type !== ALLOCATE_SUCCESS) return { ok: false, ...errorOf(answer) };
    return { ok: true, relayed: parseXorAddress(attribute(answer, ATTR.XOR_RELAYED_ADDRESS)!, id)! };
  } finally {
    client.close();
  }
}
