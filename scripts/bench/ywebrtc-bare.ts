// The floor for y-webrtc figures: the least a Bun server can do for the y-webrtc
// wire. It JSON-parses each frame, subscribes with Bun's pub/sub, and publishes
// the client's own text with `clients` spliced in to everyone on the topic; no
// validation, no limits, no bookkeeping, one node. Never a server to deploy.
//   bun scripts/bench/ywebrtc-bare.ts [--port N] [--hostname H]
import type { Server, ServerWebSocket } from "bun";

export function startYBare(options: { port: number; hostname: string }): Server<unknown> {
  const server: Server<unknown> = Bun.serve({
    port: options.port,
    hostname: options.hostname,
    fetch: (req, srv) => (srv.upgrade(req, { data: {} }) ? undefined : new Response("okay")),
    websocket: {
      message(ws: ServerWebSocket<unknown>, frame) {
        const text = String(frame);
        const m = JSON.parse(text);
        if (m.type === "publish") server.publish(m.topic, `${text.slice(0, -1)},"clients":${server.subscriberCount(m.topic)}}`);
        else if (m.type === "subscribe") for (const t of m.topics) ws.subscribe(t);
        else if (m.type === "unsubscribe") for (const t of m.topics) ws.unsubscribe(t);
        else if (m.type === "ping") ws.send('{"type":"pong"}');
      },
    },
  });
  return server;
}

if (import.meta.main) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? fallback : process.argv[i + 1]!;
  };
  const server = startYBare({ port: Number(arg("--port", "0")), hostname: arg("--hostname", "127.0.0.1") });
  console.log(`y-webrtc floor listening on http://${server.hostname}:${server.port}`);
}
