// Ownership of peer_ids: what a socket that is gone leaves behind.
import type { ServerWebSocket } from "bun";
import { expect, test } from "bun:test";
import { LocalHub } from "../../src/cluster/local-hub.ts";
import { PeerIds, peerTopic } from "../../src/tracker/peer-ids.ts";
import type { TrackerSocketData } from "../../src/tracker/socket-data.ts";
import { hexOf } from "../../src/tracker/wire.ts";
import { binaryId } from "../helpers/tracker.ts";

test("a bind that runs after its socket closed (a frame queued behind a slow one) leaves no owner behind", async () => {
  const hub = new LocalHub(() => ({ publish: () => 0, subscriberCount: () => 0 }));
  const ids = new PeerIds(hub, () => {});
  const closed = { readyState: 3, data: { kind: "tracker", ip: "", budget: undefined } } as unknown as ServerWebSocket<TrackerSocketData>;
  const peer = binaryId();
  expect(await ids.bind(closed, peer)).not.toBeNull();
  // Else every later socket would be told this peer_id belongs to another connection.
  expect(ids.owner(peerTopic(hexOf(peer)))).toBeUndefined();
  expect(closed.data.ids).toEqual([]);
  expect(await hub.holder(peerTopic(hexOf(peer)))).toBeNull();
});
