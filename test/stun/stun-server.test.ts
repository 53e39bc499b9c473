// --stun-port: a real UDP Binding exchange with the server, and hostile datagrams.
import { describe, expect, test } from "bun:test";
import { answerBinding } from "../../src/stun/stun-server.ts";
import { ATTR, BINDING_REQUEST, BINDING_SUCCESS, decodeStun, encodeStun, parseXorAddress } from "../../src/stun/message.ts";
import { withServer } from "../helpers/server.ts";
import { freeUdpPort, UdpClient } from "../helpers/udp-client.ts";

const transactionId = () => crypto.getRandomValues(new Uint8Array(12));
/** A server with --stun-port, and a UDP client to talk to it. */
async function withStun(body: (client: UdpClient, port: number) => Promise<void>): Promise<void> {
  const port = await freeUdpPort();
  await withServer({ stunPort: port }, async (srv) => {
    await srv.server.ready;
    const client = await UdpClient.open();
    try {
      await body(client, port);
    } finally {
      client.close();
    }
  });
}

const binding = (id = transactionId(), attributes: { type: number; value: Uint8Array }[] = [], fingerprint = false) => encodeStun({ type: BINDING_REQUEST, transactionId: id, attributes }, fingerprint);

describe("STUN Binding over UDP", () => {
  test("a Bun UDP client gets its own address back, with FINGERPRINT when it sent one", async () => {
    await withStun(async (client, port) => {
    for (const fingerprint of [false, true]) {
      const id = transactionId();
      const request = binding(id, [], fingerprint);
      const answer = decodeStun(await client.ask(request, port))!;
      expect(answer.type).toBe(BINDING_SUCCESS);
      expect(answer.transactionId).toEqual(id);
      const mapped = answer.attributes.find((a) => a.type === ATTR.XOR_MAPPED_ADDRESS)!;
      expect(parseXorAddress(mapped.value, id)).toEqual({ family: "IPv4", address: "127.0.0.1", port: client.port });
      expect(answer.attributes.some((a) => a.type === ATTR.FINGERPRINT)).toBe(fingerprint);
    }
    });
  });

  test("hostile datagrams get nothing, and the server keeps answering", async () => {
    await withStun(async (client, port) => {
    const good = binding();
    const badFingerprint = binding(transactionId(), [], true);
    badFingerprint[badFingerprint.length - 1]! ^= 1;
    const wrongLength = binding();
    wrongLength[3] = 8;
    const notCookie = binding();
    notCookie[4] = 0;
    const hostile = [
      new Uint8Array(0),
      new Uint8Array(19),
      new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"),
      crypto.getRandomValues(new Uint8Array(200)),
      wrongLength,
      notCookie,
      badFingerprint,
      encodeStun({ type: BINDING_SUCCESS, transactionId: transactionId(), attributes: [] }, false),
      encodeStun({ type: 0x0003, transactionId: transactionId(), attributes: [] }, false), // an Allocate
      binding(transactionId(), [{ type: ATTR.USERNAME, value: new TextEncoder().encode("who:me") }]),
      binding(transactionId(), [{ type: ATTR.SOFTWARE, value: new Uint8Array(4000) }]),
      Uint8Array.from([...good.subarray(0, 20), 0x80, 0x22, 0xff, 0xff]), // an attribute past the end
    ];
    for (const packet of hostile) client.send(packet, port);
    expect(await client.receive(300)).toBeNull();
    expect(decodeStun(await client.ask(good, port))?.type).toBe(BINDING_SUCCESS);
    });
  });

  test("a flood from one address gets a few answers, not one each", async () => {
    await withStun(async (client, port) => {
    for (let i = 0; i < 200; i++) client.send(binding(), port);
    let answers = 0;
    while (await client.receive(200)) answers++;
    expect(answers).toBeGreaterThan(0);
    expect(answers).toBeLessThanOrEqual(21);
    });
  });

  test("answers are the least that carries an address, and bounded per sender", () => {
    const request = binding();
    expect(answerBinding(request, { address: "203.0.113.9", port: 5000 })!.length).toBe(32);
    expect(answerBinding(binding(transactionId(), [], true), { address: "2001:db8::1", port: 5000 })!.length).toBe(52);
    expect(answerBinding(request, { address: "not-an-ip", port: 5000 })).toBeNull();
  });

  test("a taken --stun-port rejects ready with the reason", async () => {
    const port = await freeUdpPort();
    const squatter = await Bun.udpSocket({ hostname: "127.0.0.1", port });
    try {
      await withServer({ stunPort: port }, async (srv) => {
        await expect(srv.server.ready).rejects.toThrow(`--stun-port ${port}`);
      });
    } finally {
      squatter.close();
    }
  });
});
