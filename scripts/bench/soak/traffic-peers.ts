// /.webrtc rooms: two peers signed in on different nodes meet in a fresh room; one sends
// the other an offer by key, which must arrive (presence and relay both cross Redis).
import { authStatement } from "../../../src/identity/auth-statement.ts";
import { twoNodes, wsUrl, type TrafficContext, type TrafficGenerator } from "./traffic.ts";
import { openReady, type OpSocket } from "./ws-wait.ts";

interface Key {
  id: string;
  sign(text: string): Promise<string>;
}

async function newKey(): Promise<Key> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
  const id = Buffer.from(await crypto.subtle.exportKey("raw", pair.publicKey)).toString("hex");
  return { id, sign: async (text) => Buffer.from(await crypto.subtle.sign("Ed25519", pair.privateKey, new TextEncoder().encode(text))).toString("base64url") };
}

const isError = (m: any) => m.type === "error";

/** A peer signed in on `base` and in `room`, with the peers it found there. */
async function enter(base: string, room: string, key: Key): Promise<{ socket: OpSocket }> {
  const socket = await openReady(wsUrl(base, `/.webrtc?room=${room}`), async (s) => {
    const { nonce } = await s.next((m) => m.type === "challenge", isError, "challenge");
    s.send({ type: "auth", publicKey: key.id, signature: await key.sign(authStatement(new URL(base).host, nonce)) });
    await s.next((m) => m.type === "peers", isError, "peers list after auth");
  });
  return { socket };
}

export function peersTraffic(): TrafficGenerator {
  return {
    protocol: "/.webrtc rooms",
    everyMs: 500,
    maxInFlight: 20,
    async op(ctx: TrafficContext) {
      const [i, j] = twoNodes(ctx.nodes.length);
      const room = `soak-${crypto.randomUUID().slice(0, 8)}`;
      const [ka, kb] = await Promise.all([newKey(), newKey()]);
      const a = await enter(ctx.nodes[i]!, room, ka);
      let b: Awaited<ReturnType<typeof enter>> | undefined;
      try {
        b = await enter(ctx.nodes[j]!, room, kb);
        // A hears of B across nodes, then offers to it by key. Presence is news, not an answer: a
        // notice published while Redis is away (or before the nodes re-announced) is lost, a failure.
        await a.socket.next((m) => m.type === "peer-joined" && m.peer === kb.id, isError, "peer-joined of a peer on another node", { ms: 10_000 });
        a.socket.send({ type: "offer", to: kb.id, sdp: "soak offer" });
        // Relay by key has no receipt either: an offer lost with a dying node is a failure.
        const got = await b.socket.next((m) => m.type === "offer", isError, "offer relayed by key", { ms: 10_000 });
        if (got.from !== ka.id || got.sdp !== "soak offer") throw new Error("wrong offer relayed");
      } finally {
        a.socket.close();
        b?.socket.close();
      }
    },
  };
}
