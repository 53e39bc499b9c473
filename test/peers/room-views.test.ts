// RoomViews: what each socket in a room on this node was told, and what a resync after a
// cluster gap tells it (only what it missed; who left only once the read is settled).
import { describe, expect, test } from "bun:test";
import { LocalHub } from "../../src/cluster/local-hub.ts";
import { RoomViews } from "../../src/peers/room-views.ts";

const news = (type: "peer-joined" | "peer-left", peer: string) => JSON.stringify({ type, peer, webId: peer });

function views() {
  const hub = new LocalHub(() => ({ publish: () => 0, subscriberCount: () => 0 }));
  return { hub, views: new RoomViews<string>(hub, (room) => `r:${room}`) };
}

describe("RoomViews", () => {
  test("a socket whose list missed a member hears it from the resync; one that knew hears nothing", () => {
    const { hub, views: v } = views();
    v.entering("s1", "x");
    v.entered("s1", "x", "k1", ["far"]);
    // s2's list was read during a gap: it lacks "far", which s1 was told of.
    v.entering("s2", "x");
    v.entered("s2", "x", "k2", ["k1"]);
    hub.publish("r:x", news("peer-joined", "new"));
    expect(v.resync("x", ["k1", "k2", "far", "new"], false)).toEqual([{ socket: "s2", joined: ["far"], left: [] }]);
    expect(v.resync("x", ["k1", "k2", "far", "new"], true)).toEqual([]);
  });

  test("a local member a list left out is told too (a list read before this node re-announced)", () => {
    const { views: v } = views();
    v.entering("s1", "x");
    v.entered("s1", "x", "k1", []);
    v.entering("s2", "x");
    v.entered("s2", "x", "k2", []);
    expect(v.resync("x", ["k1", "k2"], false)).toEqual([{ socket: "s2", joined: ["k1"], left: [] }]);
  });

  test("who is missing from a read is said to have left only once settled, and only to sockets that knew", () => {
    const { views: v } = views();
    v.entering("s1", "x");
    v.entered("s1", "x", "k1", ["a", "b"]);
    v.entering("s2", "x");
    v.entered("s2", "x", "k2", ["k1", "a"]); // never told of b
    expect(v.resync("x", ["k1", "k2"], false)).toEqual([]);
    expect(v.resync("x", ["k1", "k2"], true)).toEqual([
      { socket: "s1", joined: [], left: ["a", "b"] },
      { socket: "s2", joined: [], left: ["a"] },
    ]);
    expect(v.resync("x", ["k1", "k2"], true)).toEqual([]);
  });

  test("news heard on the room topic counts as told; a socket still entering is left to its list; the last one out stops listening", () => {
    const { hub, views: v } = views();
    v.entering("s1", "x");
    v.entered("s1", "x", "k1", []);
    hub.publish("r:x", news("peer-joined", "j"));
    hub.publish("r:x", "not json");
    v.entering("s2", "x");
    expect(v.resync("x", ["k1", "j", "k"], false)).toEqual([{ socket: "s1", joined: ["k"], left: [] }]);
    hub.publish("r:x", news("peer-left", "j"));
    expect(v.resync("x", ["k1", "k"], true)).toEqual([]);
    v.gone("s1", "x");
    v.gone("s2", "x");
    expect(v.resync("x", ["k1"], true)).toEqual([]);
  });
});
