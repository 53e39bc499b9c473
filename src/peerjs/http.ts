// The PeerJS server's HTTP side: its description, fresh ids, the optional list of
// peers, and the websocket upgrade. The client fetches ids from any page's origin,
// so every answer is open to any origin, as the reference's are.
import type { Server } from "bun";
import type { KindedData } from "../http/websockets.ts";
import type { Route, UpgradeRoute } from "../protocols/module.ts";
import { MessageBudget, type BudgetPolicy } from "../peers/message-budget.ts";
import { VERSION } from "../version.ts";
import { tokenDigest } from "./names.ts";
import type { PeerjsSocketData } from "./socket-data.ts";

const CORS = { "Access-Control-Allow-Origin": "*" };
const PREFLIGHT = { ...CORS, "Access-Control-Allow-Methods": "GET, OPTIONS", "Access-Control-Allow-Headers": "*", "Access-Control-Max-Age": "86400" };

export interface PeerjsHttpOptions {
  path: string;
  key: string;
  discovery: boolean;
  budget: BudgetPolicy;
  /** Ids held on this node (for discovery). */
  ids(): string[];
}

const DESCRIPTION = JSON.stringify({
  name: "gemmapod-signal",
  description: "PeerJS signaling (the peer 1.0 wire): one id space across every node of the cluster.",
  version: VERSION,
});

/** Longer tokens are no PeerJS client's (they send about 11 characters): treated as none. */
const MAX_TOKEN = 1024;

export function peerjsHttp(o: PeerjsHttpOptions) {
  const preflight: Route = () => new Response(null, { status: 204, headers: PREFLIGHT });
  const describe = { GET: () => new Response(DESCRIPTION, { headers: { ...CORS, "Content-Type": "application/json" } }), OPTIONS: preflight };
  const routes: Record<string, Record<string, Route>> = {
    [o.path]: describe,
    [`${o.path}/`]: describe,
    [`${o.path}/:key/id`]: {
      GET: () => new Response(crypto.randomUUID(), { headers: { ...CORS, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" } }),
      OPTIONS: preflight,
    },
    [`${o.path}/:key/peers`]: {
      GET: (req) => {
        if (!o.discovery) return new Response("Unauthorized", { status: 401, headers: CORS });
        const key = (req as Request & { params: { key: string } }).params.key;
        return Response.json(key === o.key ? o.ids() : [], { headers: { ...CORS, "Cache-Control": "no-store" } });
      },
      OPTIONS: preflight,
    },
  };
  const upgrade: UpgradeRoute = (req: Request, srv: Server<KindedData>, ip: string) => {
    const q = new URL(req.url).searchParams;
    // Cut just past what is valid, so that an id too long is refused as one (see validId).
    const key = (q.get("key") ?? "").slice(0, 65);
    const id = (q.get("id") ?? "").slice(0, 257);
    const token = q.get("token") ?? "";
    const data: PeerjsSocketData = {
      kind: "peerjs",
      ip,
      key,
      id,
      digest: token && token.length <= MAX_TOKEN && id && key ? tokenDigest(key, id, token) : "",
      budget: new MessageBudget(o.budget),
      stage: "admitting",
      early: [],
      aliveAt: Date.now(),
    };
    if (srv.upgrade(req, { data })) return undefined;
    return new Response("PeerJS clients open a websocket here\n", { status: 426, headers: { ...CORS, Upgrade: "websocket" } });
  };
  return { routes, upgrade, wsPath: `${o.path}/peerjs` };
}
