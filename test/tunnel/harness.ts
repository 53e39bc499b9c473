// A real local HTTP server behind a real tunnel client, through a real broker, all on loopback.
import type { Server } from "bun";
import * as ed from "@noble/ed25519";
import { newOwnerKey, type OwnerKey } from "../../src/client/origin-auth.ts";
import { startTunnel, type TunnelClient, type TunnelClientOptions } from "../../src/tunnel/client.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import type { CreateSignalServerOptions } from "../../src/server.ts";

export { newOwnerKey as newKey } from "../../src/client/origin-auth.ts";

let names = 0;
export const uniqueName = (prefix = "t") => `${prefix}-${process.pid}-${++names}`;

export interface Tunnelled {
  broker: TestServer;
  local: Server<unknown>;
  client: TunnelClient;
  /** The tunnel's public base URL (no trailing slash). */
  url: string;
  name: string;
  key: OwnerKey;
  close(): Promise<void>;
}

/** Broker + local server (`handler`) + tunnel client, registered. */
export async function tunnelled(
  handler: (req: Request, srv: Server<unknown>) => Response | Promise<Response> | undefined,
  options: { broker?: Partial<CreateSignalServerOptions>; client?: Partial<TunnelClientOptions>; websocket?: Bun.WebSocketHandler<unknown> } = {},
): Promise<Tunnelled> {
  const broker = startServer(options.broker);
  const local = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handler as any, websocket: options.websocket as any, idleTimeout: 0 });
  const name = options.client?.name ?? uniqueName();
  const key = options.client?.key ?? (await newOwnerKey());
  const client = startTunnel({ server: broker.url, to: `http://127.0.0.1:${local.port}`, name, key, minBackoffMs: 50, maxBackoffMs: 200, ...options.client });
  const url = await client.ready;
  return {
    broker, local, client, url, name, key,
    async close() {
      client.close();
      local.stop(true);
      await broker.close();
    },
  };
}

/** Opens `/.tunnel` and reads its JSON frames. */
export class RawTunnelSocket {
  readonly frames: any[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => {
      this.frames.push(typeof e.data === "string" ? JSON.parse(e.data) : new Uint8Array(e.data));
      for (const w of this.waiters.splice(0)) w();
    };
    this.closed = new Promise((resolve) => (ws.onclose = (e) => { resolve({ code: e.code, reason: e.reason }); for (const w of this.waiters.splice(0)) w(); }));
  }
  static async open(brokerUrl: string): Promise<RawTunnelSocket> {
    const ws = new WebSocket(brokerUrl.replace(/^http/, "ws") + "/.tunnel");
    await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
    return new RawTunnelSocket(ws);
  }
  send(m: unknown): void {
    this.ws.send(typeof m === "string" || m instanceof Uint8Array ? (m as any) : JSON.stringify(m));
  }
  /** The next frame matching `match`, consumed. */
  async next(match: (m: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i !== -1) return this.frames.splice(i, 1)[0];
      if (Date.now() > deadline || this.ws.readyState === WebSocket.CLOSED) throw new Error(`no matching frame; got ${JSON.stringify(this.frames).slice(0, 500)}`);
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), Bun.sleep(50)]);
    }
  }
  /** Signs in with `key`; resolves once authenticated. */
  async signIn(key: OwnerKey, host: string): Promise<void> {
    const { nonce } = await this.next((m) => m.type === "challenge");
    const sig = await ed.signAsync(new TextEncoder().encode(`gemmapod-auth:${host}:${nonce}`), Buffer.from(key.secretKey, "hex"));
    this.send({ type: "auth", publicKey: key.publicKey, signature: Buffer.from(sig).toString("base64url") });
    await this.next((m) => m.type === "authenticated");
  }
}
