// PeerJS (`/peerjs/peerjs`): two fresh ids on two nodes are OPEN; one sends the other an
// OFFER, which must arrive with its src (delivery crosses Redis; the reference's EXPIRE says
// when it cannot). Forwarding has no receipt: an offer that does not come is a failure.
import { twoNodes, wsUrl, type TrafficContext, type TrafficGenerator } from "./traffic.ts";
import { openReady, type OpSocket } from "./ws-wait.ts";

const isError = (m: any) => m.type === "ERROR" || m.type === "ID-TAKEN";

const openPeer = (base: string, path: string, id: string) =>
  openReady(wsUrl(base, `${path}/peerjs?key=peerjs&id=${id}&token=${crypto.randomUUID()}`), (socket) => socket.next((m) => m.type === "OPEN", isError, "OPEN"));

export function peerjsTraffic(path = "/peerjs"): TrafficGenerator {
  return {
    protocol: "PeerJS",
    everyMs: 500,
    maxInFlight: 20,
    async op(ctx: TrafficContext) {
      const [i, j] = twoNodes(ctx.nodes.length);
      const [ida, idb] = [`soak-${crypto.randomUUID()}`, `soak-${crypto.randomUUID()}`];
      const a = await openPeer(ctx.nodes[i]!, path, ida);
      let b: OpSocket | undefined;
      try {
        b = await openPeer(ctx.nodes[j]!, path, idb);
        a.send({ type: "OFFER", dst: idb, payload: { sdp: "soak offer" } });
        const got = await b.next((m) => m.type === "OFFER", isError, "OFFER forwarded to an id on another node", { ms: 10_000 });
        if (got.src !== ida || got.payload?.sdp !== "soak offer") throw new Error("wrong OFFER forwarded");
      } finally {
        a.close();
        b?.close();
      }
    },
  };
}
