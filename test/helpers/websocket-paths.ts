// Every websocket path the server offers a stranger, for tests that must hold on all of them
// (today's and any added later: add a protocol's path here and the attack tests cover it).
import type { Server } from "bun";
import { newOwnerKey } from "../../src/client/origin-auth.ts";
import { startTunnel } from "../../src/tunnel/client.ts";

export interface WebsocketPath {
  /** How the test names it. */
  name: string;
  /** Whether a stranger's upgrade is accepted (101); false: refused before any frame is read. */
  upgrades: boolean;
  /** The request path, after whatever it needs to exist (a tunnel client for a tunnelled socket). */
  open(serverUrl: string): Promise<{ path: string; close(): void }>;
}

const fixed = (name: string, path: string, upgrades = true): WebsocketPath => ({ name, upgrades, open: async () => ({ path, close() {} }) });

export const WEBSOCKET_PATHS: WebsocketPath[] = [
  fixed("/signal", "/signal"),
  fixed("/.webrtc", "/.webrtc?room=attack"),
  fixed("/.tunnel", "/.tunnel"),
  fixed("/peerjs/peerjs", "/peerjs/peerjs?key=peerjs&id=attacker-1&token=t0k3n"),
  fixed("/y-webrtc", "/y-webrtc"),
  fixed("/announce", "/announce"),
  {
    // A visitor's websocket carried through a tunnel to the client's local server.
    name: "/tunnel/<name>/ (visitor socket)",
    upgrades: true,
    async open(serverUrl) {
      const local: Server<unknown> = Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("no", { status: 400 })),
        websocket: { message() {} },
      });
      const name = `attack-${process.pid}-${Date.now() % 100_000}`;
      const client = startTunnel({ server: serverUrl, to: `http://127.0.0.1:${local.port}`, name, key: await newOwnerKey(), minBackoffMs: 50, maxBackoffMs: 200 });
      await client.ready;
      return { path: `/tunnel/${name}/ws`, close: () => (client.close(), local.stop(true)) };
    },
  },
  // Cluster nodes carry tunnelled sockets to each other here; a stranger (no node credential) gets 404.
  fixed("node hop", "/.cluster/tunnel/anything/ws", false),
];
