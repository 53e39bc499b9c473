// The floor for tracker figures: the least a Bun WebSocket tracker can do per offer. One Map of
// swarms, offers to the first peers found, answers by peer_id; no validation, no limits, no
// ownership, no cluster. Never a server to deploy.
//   bun scripts/bench/bare-tracker.ts [--port N] [--hostname H]
import type { ServerWebSocket } from "bun";

type Socket = ServerWebSocket<{ peers: string[] }>;
const swarms = new Map<string, Map<string, Socket>>();

function message(ws: Socket, text: string): void {
  const m = JSON.parse(text);
  let swarm = swarms.get(m.info_hash);
  if (!swarm) swarms.set(m.info_hash, (swarm = new Map()));
  if (!swarm.has(m.peer_id)) ws.data.peers.push(m.info_hash, m.peer_id);
  swarm.set(m.peer_id, ws);
  if (m.answer) {
    swarm.get(m.to_peer_id)?.send(JSON.stringify({ action: "announce", answer: m.answer, offer_id: m.offer_id, peer_id: m.peer_id, info_hash: m.info_hash }));
    return;
  }
  ws.send(JSON.stringify({ action: "announce", complete: 0, incomplete: swarm.size, interval: 120, info_hash: m.info_hash }));
  const offers = m.offers ?? [];
  let i = 0;
  for (const [peer, other] of swarm) {
    if (i >= offers.length) break;
    if (peer === m.peer_id) continue;
    other.send(JSON.stringify({ action: "announce", offer: offers[i].offer, offer_id: offers[i].offer_id, peer_id: m.peer_id, info_hash: m.info_hash }));
    i++;
  }
}

export function startBareTracker(options: { port: number; hostname: string }) {
  return Bun.serve<{ peers: string[] }>({
    ...options,
    fetch(req, srv) {
      if (new URL(req.url).pathname === "/health") return new Response("ok");
      return srv.upgrade(req, { data: { peers: [] } }) ? undefined : new Response("upgrade", { status: 426 });
    },
    websocket: {
      message: (ws, frame) => message(ws, String(frame)),
      close(ws) {
        const p = ws.data.peers;
        for (let i = 0; i < p.length; i += 2) {
          const swarm = swarms.get(p[i]!);
          swarm?.delete(p[i + 1]!);
          if (swarm?.size === 0) swarms.delete(p[i]!);
        }
      },
    },
  });
}

if (import.meta.main) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? fallback : process.argv[i + 1]!;
  };
  const server = startBareTracker({ port: Number(arg("--port", "0")), hostname: arg("--hostname", "127.0.0.1") });
  console.log(`listening on http://${server.hostname}:${server.port}`);
}
