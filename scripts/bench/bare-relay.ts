// The floor for relay figures: the least a Bun relay can do per message. It
// JSON-parses each frame and publishes the client's own text to a topic, with
// no validation, no limits and no bookkeeping. Never a server to deploy.
//   bun scripts/bench/bare-relay.ts [--port N] [--hostname H]
import type { Server, ServerWebSocket } from "bun";

interface Peer {
  role: "none" | "origin" | "visitor";
  podId?: string;
}

export function startBareRelay(options: { port: number; hostname: string }): Server<Peer> {
  return Bun.serve<Peer>({
    port: options.port,
    hostname: options.hostname,
    fetch(req, server) {
      if (new URL(req.url).pathname === "/health") return Response.json({ ok: true });
      if (server.upgrade(req, { data: { role: "none" } })) return undefined;
      return new Response("not found", { status: 404 });
    },
    websocket: {
      message(ws: ServerWebSocket<Peer>, frame) {
        const text = String(frame);
        const m = JSON.parse(text);
        const peer = ws.data;
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
    },
  });
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
