// The floor for PeerJS figures: the least a Bun server can do to speak the
// peer 1.0 wire. Ids from a Map, OPEN at once, each frame JSON-parsed, `src`
// set, re-serialised and sent to the Map's socket for `dst`. No checks, no
// limits, no queue, no cluster. Never a server to deploy.
//   bun scripts/bench/bare-peerjs.ts [--port N] [--hostname H]
import type { ServerWebSocket } from "bun";

interface Data {
  id: string;
}

export function startBarePeerjs(options: { port: number; hostname: string }) {
  const ids = new Map<string, ServerWebSocket<Data>>();
  return Bun.serve<Data>({
    ...options,
    routes: { "/peerjs/:key/id": () => new Response(crypto.randomUUID(), { headers: { "Access-Control-Allow-Origin": "*" } }) },
    fetch(req, srv) {
      const id = new URL(req.url).searchParams.get("id") ?? "";
      return srv.upgrade(req, { data: { id } }) ? undefined : new Response("upgrade", { status: 426 });
    },
    websocket: {
      open(ws) {
        ids.set(ws.data.id, ws);
        ws.send('{"type":"OPEN"}');
      },
      message(ws, text) {
        const m = JSON.parse(String(text));
        if (m.type === "HEARTBEAT") return;
        ids.get(m.dst)?.send(JSON.stringify({ type: m.type, src: ws.data.id, dst: m.dst, payload: m.payload }));
      },
      close(ws) {
        if (ids.get(ws.data.id) === ws) ids.delete(ws.data.id);
      },
    },
  });
}

if (import.meta.main) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? fallback : process.argv[i + 1]!;
  };
  const server = startBarePeerjs({ port: Number(arg("--port", "0")), hostname: arg("--hostname", "127.0.0.1") });
  console.log(`bare PeerJS relay listening on http://${server.hostname}:${server.port}`);
}
