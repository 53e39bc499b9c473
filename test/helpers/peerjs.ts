// PeerJS sockets as the `peerjs` client opens them, for protocol tests.
import { TestSocket } from "./ws-client.ts";

export interface PeerjsQuery {
  id?: string;
  token?: string;
  key?: string;
}

/** The websocket URL a PeerJS client with `path: "/peerjs"` opens on `base` (http://host:port). */
export function peerjsUrl(base: string, q: PeerjsQuery, path = "/peerjs"): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, v);
  params.set("version", "1.5.5");
  return `${base.replace(/^http/, "ws")}${path}/peerjs?${params}`;
}

/** A socket that has its OPEN (key "peerjs", a token unless given). */
export async function openPeer(base: string, id: string, token = `t-${id}`, path?: string): Promise<TestSocket> {
  const s = await TestSocket.open(peerjsUrl(base, { key: "peerjs", id, token }, path));
  const first = await s.next();
  if (first.type !== "OPEN") throw new Error(`expected OPEN, got ${JSON.stringify(first)}`);
  return s;
}
