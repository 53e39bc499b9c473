// Hostile PeerJS frames get an ERROR in the protocol's own form and never crash
// the server; the message budget stops a flood and lets a realistic burst of a
// peer connecting to many others pass on the default flags.
import { describe, expect, test } from "bun:test";
import { openPeer } from "../helpers/peerjs.ts";
import { withServer } from "../helpers/server.ts";

describe("hostile frames", () => {
  test("invalid JSON, null, non-objects, a missing or wrong dst, binary: an ERROR each; the socket and server go on", () =>
    withServer({ maxMessageBytes: 4096 }, async (srv) => {
      const a = await openPeer(srv.url, "ha");
      const b = await openPeer(srv.url, "hb");
      const cases: [string | Uint8Array, string][] = [
        ["{not json", "invalid JSON: a message is a JSON object {type, dst, payload}"],
        ["null", "a message is a JSON object {type, dst, payload}"],
        ["[1,2]", "a message is a JSON object {type, dst, payload}"],
        ["42", "a message is a JSON object {type, dst, payload}"],
        ['{"dst":"hb"}', "type must be a string"],
        ['{"type":{"x":1},"dst":"hb"}', "type must be a string"],
        ['{"type":"OFFER"}', "OFFER needs dst: the id of a peer"],
        ['{"type":"CANDIDATE","dst":""}', "CANDIDATE needs dst: the id of a peer"],
        ['{"type":"ANSWER","dst":["hb"]}', "ANSWER needs dst: the id of a peer"],
        [new Uint8Array([0, 1, 2, 255]), "binary frames are not supported; send JSON text"],
        [JSON.stringify({ type: "OFFER", dst: "hb", payload: "é".repeat(3000) }), "message too large (limit 4096 bytes)"],
      ];
      for (const [frame, msg] of cases) {
        a.send(frame);
        expect(await a.next()).toEqual({ type: "ERROR", payload: { msg } });
      }
      a.send('{"type":"UNKNOWN-TYPE","dst":"hb"}');
      // Markers after it: a's next answer is the ERROR for "null", b's next message this OFFER.
      a.send("null");
      expect(await a.next()).toEqual({ type: "ERROR", payload: { msg: "a message is a JSON object {type, dst, payload}" } });
      a.send({ type: "OFFER", dst: "hb", payload: { ok: true } });
      expect(await b.next()).toEqual({ type: "OFFER", src: "ha", dst: "hb", payload: { ok: true } });
    }));

  test("a frame past twice the message limit closes the socket (1009); the server serves the next", () =>
    withServer({ maxMessageBytes: 4096 }, async (srv) => {
      const a = await openPeer(srv.url, "big");
      a.send(JSON.stringify({ type: "OFFER", dst: "x", payload: "x".repeat(10_000) }));
      expect((await a.closed).code).toBe(1009);
      (await openPeer(srv.url, "big", "t-big")).close();
    }));
});

describe("the message budget", () => {
  test("a flood to one peer is stopped: ERROR, close 1008", () =>
    withServer({}, async (srv) => {
      const flooder = await openPeer(srv.url, "flooder");
      await openPeer(srv.url, "victim");
      for (let i = 0; i < 2000; i++) flooder.send({ type: "CANDIDATE", dst: "victim", payload: { i } });
      expect((await flooder.next((m) => m.type === "ERROR", 5000)).payload.msg).toStartWith("rate limit exceeded");
      expect((await flooder.closed).code).toBe(1008);
    }));

  test("a realistic burst passes on the defaults: one peer connecting to 20 others at once (an OFFER and 15 candidates each, heartbeats)", () =>
    withServer({}, async (srv) => {
      const hub = await openPeer(srv.url, "mesh-hub");
      const others = await Promise.all(Array.from({ length: 20 }, (_, i) => openPeer(srv.url, `mesh-${i}`)));
      hub.send({ type: "HEARTBEAT" });
      for (let i = 0; i < 20; i++) {
        hub.send({ type: "OFFER", dst: `mesh-${i}`, payload: { sdp: "v=0" } });
        for (let c = 0; c < 15; c++) hub.send({ type: "CANDIDATE", dst: `mesh-${i}`, payload: { c } });
      }
      for (const [i, o] of others.entries()) {
        expect((await o.next()).type).toBe("OFFER");
        for (let c = 0; c < 15; c++) expect((await o.next()).payload).toEqual({ c });
        o.send({ type: "ANSWER", dst: "mesh-hub", payload: { i } });
      }
      // The first 20 things the hub hears are the answers, sent after all its own messages were taken.
      for (let i = 0; i < 20; i++) expect((await hub.next()).type).toBe("ANSWER");
      expect(hub.unread({ type: "ERROR" })).toEqual([]);
    }));
});
