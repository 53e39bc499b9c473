import type { ServerWebSocket } from "bun";
import type { Hub } from "../cluster/hub.ts";
import type { Binding, TrackerSocketData } from "./socket-data.ts";
import { hexOf } from "./wire.ts";

type TrackerSocket = ServerWebSocket<TrackerSocketData>;

/** A peer_id's name across the cluster: its claim, and the topic its offers and answers go to. */
export const peerTopic = (peerHex: string): string => `wt:p:${peerHex}`;

/** Peer ids one socket may own: a page may run a few clients over one tracker socket, not more. */
export const MAX_IDS_PER_SOCKET = 16;

/** Shared by every settled binding, so an idle socket keeps no promise of its own. */
const BOUND = Promise.resolve(true);
const REFUSED = Promise.resolve(false);

/**
 * Who owns which peer_id. The reference lets any socket announce, answer or stop in any
 * peer's name, so anyone who saw a peer_id in an offer could evict or impersonate it. Here
 * the first socket to announce a peer_id holds it (a claim through the hub, so across nodes
 * too) until it closes; others are refused.
 */
export class PeerIds {
  /** This node's owners, by their peer_id's topic (where offers and answers to it go). */
  private readonly owners = new Map<string, TrackerSocket>();

  constructor(private readonly hub: Hub, private readonly lost: (ws: TrackerSocket, peerId: string) => void) {}

  /** The socket of this node whose peer_id's topic is `topic`. */
  owner(topic: string): TrackerSocket | undefined {
    return this.owners.get(topic);
  }

  /** `ws` owns `peerId` (binary) already: the common case, answered without waiting. */
  bound(ws: TrackerSocket, peerId: string): boolean {
    const ids = ws.data.ids;
    if (!ids) return false;
    for (const b of ids) if (b.peer === peerId) return b.ready === BOUND;
    return false;
  }

  /** Resolves null once `ws` owns `peerId` (binary), else the reason it may not use it. */
  async bind(ws: TrackerSocket, peerId: string): Promise<string | null> {
    const ids = (ws.data.ids ??= []);
    const known = ids.find((b) => b.peer === peerId);
    if (known) return (await known.ready) ? null : "peer_id belongs to another connection";
    const topic = peerTopic(hexOf(peerId));
    const owner = this.owners.get(topic);
    if (owner && owner !== ws) return "peer_id belongs to another connection";
    if (ids.length >= MAX_IDS_PER_SOCKET) return `at most ${MAX_IDS_PER_SOCKET} peer_ids per connection`;
    const binding: Binding = { peer: peerId, topic, ready: REFUSED };
    ids.push(binding);
    this.owners.set(topic, ws);
    binding.ready = this.take(ws, binding);
    const taken = await binding.ready;
    if (taken && binding.ready !== REFUSED) binding.ready = BOUND;
    return taken ? null : "peer_id belongs to another connection";
  }

  /** Gives up what `ws` owns (it closed). */
  releaseAll(ws: TrackerSocket): void {
    for (const binding of [...(ws.data.ids ?? [])]) this.release(ws, binding);
  }

  private async take(ws: TrackerSocket, binding: Binding): Promise<boolean> {
    const name = binding.topic;
    try {
      // First come, first served: a live holder on any node keeps its name.
      if ((await this.hub.holder(name)) !== null) return this.undo(ws, binding);
      const claim = await this.hub.claim(name, "", this.onLost.bind(this, ws, binding));
      if (ws.readyState !== 1 || !ws.data.ids?.includes(binding)) {
        claim.release();
        // A frame queued behind a slow one can bind after the socket closed (releaseAll already
        // ran): without this its owners entry would stay, and refuse that peer_id here forever.
        return this.undo(ws, binding);
      }
      binding.claim = claim;
      this.hub.subscribe(ws, name);
      return true;
    } catch {
      return this.undo(ws, binding);
    }
  }

  private undo(ws: TrackerSocket, binding: Binding): false {
    const ids = ws.data.ids;
    const i = ids ? ids.indexOf(binding) : -1;
    if (i !== -1) ids!.splice(i, 1);
    if (this.owners.get(binding.topic) === ws && !ids?.some((b) => b.peer === binding.peer)) this.owners.delete(binding.topic);
    return false;
  }

  /** Another node took the name in the same instant: the later claim stands, this socket loses it. */
  private onLost(ws: TrackerSocket, binding: Binding): void {
    binding.claim = undefined;
    this.release(ws, binding);
    this.lost(ws, binding.peer);
  }

  private release(ws: TrackerSocket, binding: Binding): void {
    binding.claim?.release();
    binding.ready = REFUSED;
    this.hub.unsubscribe(ws, binding.topic);
    this.undo(ws, binding);
  }
}
