import type { ServerWebSocket } from "bun";
import type { Hub } from "../cluster/hub.ts";
import type { Binding, TrackerSocketData } from "./socket-data.ts";

type TrackerSocket = ServerWebSocket<TrackerSocketData>;

/** A peer_id's name across the cluster: its claim, and the topic its offers and answers go to. */
export const peerTopic = (peerHex: string): string => `wt:p:${peerHex}`;

/** Peer ids one socket may own: a page may run a few clients over one tracker socket, not more. */
export const MAX_IDS_PER_SOCKET = 16;

/**
 * Who owns which peer_id. The reference lets any socket announce, answer or stop in any
 * peer's name, so anyone who saw a peer_id in an offer could evict or impersonate it. Here
 * the first socket to announce a peer_id holds it (a claim through the hub, so across nodes
 * too) until it closes; others are refused.
 */
export class PeerIds {
  /** This node's owners, by peer_id hex. */
  private readonly owners = new Map<string, TrackerSocket>();

  constructor(private readonly hub: Hub, private readonly onLost: (ws: TrackerSocket, peerHex: string) => void) {}

  /** The socket of this node that owns `peerHex`. */
  owner(peerHex: string): TrackerSocket | undefined {
    return this.owners.get(peerHex);
  }

  /** Resolves null once `ws` owns `peerHex`, else the reason it may not use it. */
  async bind(ws: TrackerSocket, peerHex: string): Promise<string | null> {
    const ids = (ws.data.ids ??= new Map());
    const known = ids.get(peerHex);
    if (known) return (await known.ready) ? null : "peer_id belongs to another connection";
    const owner = this.owners.get(peerHex);
    if (owner && owner !== ws) return "peer_id belongs to another connection";
    if (ids.size >= MAX_IDS_PER_SOCKET) return `at most ${MAX_IDS_PER_SOCKET} peer_ids per connection`;
    const binding: Binding = { ready: Promise.resolve(false) };
    ids.set(peerHex, binding);
    this.owners.set(peerHex, ws);
    binding.ready = this.take(ws, peerHex, binding);
    return (await binding.ready) ? null : "peer_id belongs to another connection";
  }

  /** Gives up what `ws` owns (it closed). */
  releaseAll(ws: TrackerSocket): void {
    for (const [peerHex, binding] of ws.data.ids ?? []) this.release(ws, peerHex, binding);
  }

  private async take(ws: TrackerSocket, peerHex: string, binding: Binding): Promise<boolean> {
    const name = peerTopic(peerHex);
    try {
      // First come, first served: a live holder on any node keeps its name.
      if ((await this.hub.holder(name)) !== null) return this.undo(ws, peerHex, binding);
      const claim = await this.hub.claim(name, "", () => this.lost(ws, peerHex, binding));
      if (ws.readyState !== 1 || ws.data.ids?.get(peerHex) !== binding) {
        claim.release();
        return false;
      }
      binding.claim = claim;
      this.hub.subscribe(ws, name);
      return true;
    } catch {
      return this.undo(ws, peerHex, binding);
    }
  }

  private undo(ws: TrackerSocket, peerHex: string, binding: Binding): false {
    if (ws.data.ids?.get(peerHex) === binding) ws.data.ids.delete(peerHex);
    if (this.owners.get(peerHex) === ws && !ws.data.ids?.has(peerHex)) this.owners.delete(peerHex);
    return false;
  }

  /** Another node took the name in the same instant: the later claim stands, this socket loses it. */
  private lost(ws: TrackerSocket, peerHex: string, binding: Binding): void {
    binding.claim = undefined;
    this.release(ws, peerHex, binding);
    this.onLost(ws, peerHex);
  }

  private release(ws: TrackerSocket, peerHex: string, binding: Binding): void {
    binding.claim?.release();
    binding.ready = Promise.resolve(false);
    this.hub.unsubscribe(ws, peerTopic(peerHex));
    this.undo(ws, peerHex, binding);
  }
}
