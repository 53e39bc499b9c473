// The WebTorrent tracker (`/announce`): two peers on two nodes announce the same fresh
// info_hash; the second sends an offer, which must reach the first; its answer must come
// back. Offers and answers have no receipt: one that does not come is a failure.
import { twoNodes, wsUrl, type TrafficContext, type TrafficGenerator } from "./traffic.ts";
import { openReady, type OpSocket } from "./ws-wait.ts";

/** 20 characters of code points 0–255, as WebTorrent makes info_hashes, peer_ids and offer_ids. */
const binaryId = () => String.fromCharCode(...crypto.getRandomValues(new Uint8Array(20)));

const isError = (m: any) => m["failure reason"] !== undefined;

interface Peer {
  socket: OpSocket;
  peerId: string;
}

/** A peer that announced into `infoHash` (with `fields`) and got its reply. */
async function announced(base: string, path: string, infoHash: string, fields: object): Promise<Peer> {
  const peerId = binaryId();
  const socket = await openReady(wsUrl(base, path), (s) => {
    s.send({ action: "announce", info_hash: infoHash, peer_id: peerId, numwant: 1, uploaded: 0, downloaded: 0, left: 100, ...fields });
    return s.next((m) => m.action === "announce" && m.info_hash === infoHash && m.interval !== undefined, isError, "announce reply");
  });
  return { socket, peerId };
}

export function trackerTraffic(path = "/announce"): TrafficGenerator {
  return {
    protocol: "tracker",
    everyMs: 500,
    maxInFlight: 20,
    async op(ctx: TrafficContext) {
      const [i, j] = twoNodes(ctx.nodes.length);
      const infoHash = binaryId();
      const seeder = await announced(ctx.nodes[i]!, path, infoHash, { left: 0 });
      let leecher: Peer | undefined;
      try {
        const offerId = binaryId();
        leecher = await announced(ctx.nodes[j]!, path, infoHash, { offers: [{ offer_id: offerId, offer: { type: "offer", sdp: "soak offer" } }] });
        const offer = await seeder.socket.next((m) => m.offer !== undefined, isError, "offer relayed to a peer on another node", { ms: 10_000 });
        if (offer.peer_id !== leecher.peerId || offer.offer_id !== offerId || offer.offer?.sdp !== "soak offer") throw new Error("wrong offer relayed");
        seeder.socket.send({ action: "announce", info_hash: infoHash, peer_id: seeder.peerId, to_peer_id: leecher.peerId, offer_id: offerId, answer: { type: "answer", sdp: "soak answer" } });
        const answer = await leecher.socket.next((m) => m.answer !== undefined, isError, "answer relayed back to the offerer", { ms: 10_000 });
        if (answer.peer_id !== seeder.peerId || answer.offer_id !== offerId || answer.answer?.sdp !== "soak answer") throw new Error("wrong answer relayed");
      } finally {
        seeder.socket.close();
        leecher?.socket.close();
      }
    },
  };
}
