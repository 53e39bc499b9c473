// Yjs y-webrtc (`/y-webrtc`): two sockets on two nodes subscribe to a fresh room (each
// subscribe is in effect once the ping after it is answered); one publishes, and the other
// must receive it, with `clients` counting both within 10 s. A publish has no receipt: a copy
// that does not come is a failure, as with PeerJS's forwarded offers.
import { twoNodes, wsUrl, type TrafficContext, type TrafficGenerator } from "./traffic.ts";
import { openReady, type OpSocket } from "./ws-wait.ts";

const isError = (m: any) => m.type === "error";

const subscribed = (base: string, path: string, room: string) =>
  openReady(wsUrl(base, path), (socket) => {
    socket.send({ type: "subscribe", topics: [room] });
    socket.send({ type: "ping" });
    return socket.next((m) => m.type === "pong", isError, "pong after a subscribe");
  });

export function ywebrtcTraffic(path = "/y-webrtc"): TrafficGenerator {
  return {
    protocol: "y-webrtc",
    everyMs: 500,
    maxInFlight: 20,
    async op(ctx: TrafficContext) {
      const [i, j] = twoNodes(ctx.nodes.length);
      const room = `soak-${crypto.randomUUID()}`;
      const a = await subscribed(ctx.nodes[i]!, path, room);
      let b: OpSocket | undefined;
      try {
        b = await subscribed(ctx.nodes[j]!, path, room);
        // A's node learns of B's subscriber from B's node, a Redis round trip after B's pong; a
        // publish made before that counts 1. The count must converge: publish again until it does.
        const deadline = Date.now() + 10_000;
        for (let tries = 1; ; tries++) {
          const data = { type: "announce", from: crypto.randomUUID() };
          a.send({ type: "publish", topic: room, data });
          const got = await b.next((m) => m.type === "publish" && m.topic === room && m.data?.from === data.from, isError, "publish relayed to a subscriber on another node", { ms: 10_000 });
          if (got.clients === 2) break;
          if (Date.now() > deadline) throw new Error(`clients ${got.clients}, not 2 (one subscriber on each of two nodes), after ${tries} publishes over 10 s`);
          await Bun.sleep(100);
        }
      } finally {
        a.close();
        b?.close();
      }
    },
  };
}
