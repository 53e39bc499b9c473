// The floor for relay figures: the least a Bun relay can do per message. It
// JSON-parses each frame and publishes the client's own text to a topic, with
// no validation, no limits and no bookkeeping. Never a server to deploy.
// On /.webrtc it does the same for peers: `auth` is believed without a
// signature, frames go to `k:<to>` as they came, presence is one Set per room.
//   bun scripts/bench/bare-relay.ts [--port N] [--hostname H]
import type { Server, ServerWebSocket } from "bun";

interface Peer {
  role: "none" | "origin" | "visitor" | "peer";
  podId?: string;
  room?: string;
  key?: string;
}

const rooms = new Map<string, Set<string>>();

function peerMessage(ws: ServerWebSocket<Peer>, text: string): void {
  const m = JSON.parse(text);
  const peer = ws.data;
  if (m.type !== "auth") return void ws.publish(`k:${m.to}`, text);
  const key: string = m.publicKey;
  let members = rooms.get(peer.room!);
  if (!members) rooms.set(peer.room!, (members = new Set()));
  ws.send(JSON.stringify({ type: "peers", you: key, peers: [...members] }));
  members.add(key);
  peer.key = key;
  ws.subscribe(`k:${key}`);
  ws.subscribe(`r:${peer.room}`);
  ws.publish(`r:${peer.room}`, `{"type":"peer-joined","peer":"${key}"}`);
}

export function startBareRelay(options: { port: number; hostname: string }): Server<Peer> {
  const server: Server<Peer> = Bun.serve<Peer>({
    port: options.port,
    hostname: options.hostname,
    fetch(req, server) {
      const url = new URL(req.url);
      if (url.pathname === "/health") return Response.json({ ok: true });
      const data: Peer = url.pathname === "/.webrtc" ? { role: "peer", room: url.searchParams.get("room") ?? "lobby" } : { role: "none" };
      if (server.upgrade(req, { data })) return undefined;
      return new Response("not found", { status: 404 });
    },
    websocket: {
      message(ws: ServerWebSocket<Peer>, frame) {
        const text = String(frame);
        const peer = ws.data;
        if (peer.role === "peer") return peerMessage(ws, text);
        const m = JSON.parse(text);
        if (m.t === "register") {
          peer.role = "origin";
          peer.podId = m.podId;
          ws.subscribe(`p:${m.podId}`);
          ws.send(`{"t":"registered","podId":${JSON.stringify(m.podId)}}`);
        } else if (m.t === "offer") {
          peer.role = "visitor";
          peer.podId = m.podId;
          ws.subscribe(`s:${m.sessionId}`);
          ws.publish(`p:${m.podId}`, text);
        } else if (peer.role === "origin") {
          ws.publish(`s:${m.sessionId}`, text);
        } else {
          ws.publish(`p:${peer.podId}`, text);
        }
      },
      close(ws: ServerWebSocket<Peer>) {
        const { room, key } = ws.data;
        if (key === undefined || !rooms.get(room!)?.delete(key)) return;
        server.publish(`r:${room}`, `{"type":"peer-left","peer":"${key}"}`);
      },
    },
  });
  return server;
}

if (import.meta.main) {
  const flag = (name: string, fallback: string) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? fallback : process.argv[i + 1]!;
  };
  const server = startBareRelay({ port: Number(flag("--port", "0")), hostname: flag("--hostname", "127.0.0.1") });
  console.log(`bare relay listening on http://${server.hostname}:${server.port}`);
  const stop = () => {
    server.stop(true);
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
