import { describe, expect, test } from "bun:test";
import { decodeAll, framedData, framedResync } from "../../src/cluster/envelope.ts";

// What the batch script sends a node: "m" and the framed messages, concatenated as they came.
const batch = (...framed: string[]) => `m${framed.join("")}`;

describe("node channel envelopes", () => {
  test("text, noted and binary messages survive a batch in order, topics with colons and digits included", () => {
    const text = '{"t":"candidate","sessionId":"x","candidate":{"candidate":"é ü 🧪"}}';
    const decoded = decodeAll(batch(framedData("s:3:a:b:12", text), framedData("p:9:9", "second", "sess:1"), framedData("b:1", new Uint8Array([0, 255, 10]))));
    expect(decoded).toEqual([
      { kind: "data", topic: "s:3:a:b:12", data: text },
      { kind: "data", topic: "p:9:9", note: "sess:1", data: "second" },
      { kind: "data", topic: "b:1", data: Buffer.from([0, 255, 10]) },
    ]);
  });

  test("claim notices written by the Lua scripts", () => {
    expect(decodeAll("l42:p:pod:with:colons")).toEqual([{ kind: "lost", epoch: 42, name: "p:pod:with:colons" }]);
    expect(decodeAll("g7:p:x")).toEqual([{ kind: "gone", epoch: 7, name: "p:x" }]);
  });

  test("resync requests travel in a batch with data, group names with colons included", () => {
    expect(decodeAll(batch(framedResync("node-1", "room:a:b"), framedData("r:a", "x")))).toEqual([
      { kind: "resync", node: "node-1", group: "room:a:b" },
      { kind: "data", topic: "r:a", data: "x" },
    ]);
  });

  test("what this version does not understand is left out, never thrown", () => {
    for (const junk of ["", "x", "d", "d5:ab", "d-1:a", "dx:a", "n3:abc", "n3:abc9:n", "lx:a", "l:a", "m", "m3:d", "m999:d1:ab", "y", "y9:ab", "yx:a"]) {
      expect(() => decodeAll(junk)).not.toThrow();
    }
    expect(decodeAll("z1:a")).toEqual([]);
    // A bad frame ends the batch there; what came before it stands.
    expect(decodeAll(batch(framedData("t", "ok"), "7:bogus"))).toEqual([{ kind: "data", topic: "t", data: "ok" }]);
  });
});
