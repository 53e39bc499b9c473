import type { Server } from "bun";
import { jsonError } from "../http/errors.ts";
import type { KindedData } from "../http/websockets.ts";
import { SignedRequestVerifier } from "../identity/signed-request.ts";
import { authHost, newAuthState } from "../identity/socket-auth.ts";
import { servePeerClient } from "../client/peer-bundle.ts";
import { iceServersFor, type IceServerOptions } from "./ice-servers.ts";
import { MessageBudget, type BudgetPolicy } from "./message-budget.ts";
import { DEFAULT_ROOM, ROOM_NAME } from "./protocol.ts";
import type { PeerSocketData } from "./socket-data.ts";

export interface PeerRouteOptions {
  publicUrl: string | undefined;
  budget: BudgetPolicy;
  ice: IceServerOptions;
}

/** The peers feature's `/.webrtc` upgrade (after the shared gate), and its routes: ICE servers for signed requests, the browser client. */
export function peerRoutes(options: PeerRouteOptions) {
  const verifier = new SignedRequestVerifier();
  const upgrade = (req: Request, srv: Server<KindedData>, ip: string): Response | undefined => {
    const room = roomOf(req.url);
    if (room === null) return jsonError(400, "room must be 1-64 characters of A-Z a-z 0-9 . _ -");
    const host = authHost(req, options.publicUrl);
    if (host === null) return jsonError(400, "a Host header is needed to sign in");
    const data: PeerSocketData = { kind: "peer", ip, room, auth: newAuthState(host), budget: new MessageBudget(options.budget), stage: "signing-in" };
    if (srv.upgrade(req, { data })) return undefined;
    return jsonError(426, "WS /.webrtc expects a websocket upgrade", { Upgrade: "websocket" });
  };
  const routes = {
    "/ice-servers": {
      // Credentials are relay bandwidth: only for a key that signed this request.
      GET: async (req: Request): Promise<Response> => {
        const proof = await verifier.verify(req.headers.get("authorization") ?? undefined, "GET", "/ice-servers");
        if ("error" in proof) return jsonError(401, `GET /ice-servers needs Authorization: GemmaPod-Ed25519 (${proof.error})`);
        const host = authHost(req, options.publicUrl) ?? "";
        return Response.json({ iceServers: iceServersFor(options.ice, proof.owner, host) }, { headers: { "Cache-Control": "no-store" } });
      },
    },
    "/client/peer.js": { GET: servePeerClient },
  };
  return { upgrade, routes };
}

/** The room a `/.webrtc` URL asks for, or null when it names none validly. */
function roomOf(url: string): string | null {
  const rooms = new URL(url).searchParams.getAll("room");
  if (rooms.length === 0) return DEFAULT_ROOM;
  return rooms.length === 1 && ROOM_NAME.test(rooms[0]!) ? rooms[0]! : null;
}
