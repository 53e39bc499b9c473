// --stun-port: answers STUN Binding requests over UDP with the sender's address,
// so peers learn their public address without a third-party STUN server.
import type { udp } from "bun";
import { RateLimiter } from "../limits/rate-limiter.ts";
import { ATTR, BINDING_REQUEST, BINDING_SUCCESS, decodeStun, encodeStun, xorAddress } from "./message.ts";

/** Bigger requests are not Binding requests anyone sends; never read further. */
const MAX_REQUEST_BYTES = 548;
/** Answers per second to one address (bursts of twice that): a browser sends a few per gathering. */
const ANSWERS_PER_SECOND = 10;

export interface StunServer {
  port: number;
  close(): void;
}

/**
 * The answer to one datagram, or null to drop it: only a well-formed Binding
 * request gets one. Browsers send bare 20-byte requests, and the least answer
 * that carries an address is 32 bytes; so the answer is exactly that (FINGERPRINT
 * only when the request had one), at most 1.6 times the request, and each
 * address gets few per second: a forged sender address is worth nothing as a reflector.
 */
export function answerBinding(packet: Uint8Array, from: { address: string; port: number }): Uint8Array | null {
  if (packet.length > MAX_REQUEST_BYTES) return null;
  const request = decodeStun(packet);
  if (!request || request.type !== BINDING_REQUEST) return null;
  // Attributes a server must understand (below 0x8000) are ones a Binding request never needs.
  if (request.attributes.some((a) => a.type < 0x8000)) return null;
  const mapped = xorAddress(from, request.transactionId);
  if (!mapped) return null;
  const withFingerprint = request.attributes.some((a) => a.type === ATTR.FINGERPRINT);
  return encodeStun({ type: BINDING_SUCCESS, transactionId: request.transactionId, attributes: [{ type: ATTR.XOR_MAPPED_ADDRESS, value: mapped }] }, withFingerprint);
}

export async function startStunServer(options: { hostname: string; port: number }): Promise<StunServer> {
  const limiter = new RateLimiter(ANSWERS_PER_SECOND, ANSWERS_PER_SECOND * 2);
  const socket: udp.Socket<"buffer"> = await Bun.udpSocket({
    hostname: options.hostname,
    port: options.port,
    socket: {
      data(sock, data, port, address) {
        const answer = answerBinding(data, { address, port });
        if (answer && limiter.take(address) === 0) sock.send(answer, port, address);
      },
    },
  });
  return { port: socket.port, close: () => socket.close() };
}
