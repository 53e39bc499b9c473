import type { ServerWebSocket } from "bun";
import type { TrackerSocketData } from "./socket-data.ts";

/** One of this node's peers in a swarm. */
export interface LocalPeer {
  ws: ServerWebSocket<TrackerSocketData>;
  seeder: boolean;
  seenAt: number;
}

/**
 * This node's own peers, by swarm (info_hash) and peer_id, both as the binary strings sent. Each swarm's map is kept in
 * order of last sight (a peer seen again moves to the end), so the least recently seen comes first
 * for both the swarm cap and the TTL sweep. A swarm with no peer left is freed at once (the
 * reference keeps every swarm it ever saw).
 */
export class LocalSwarms {
  private readonly swarms = new Map<string, Map<string, LocalPeer>>();
  private peers = 0;

  get(swarm: string, peer: string): LocalPeer | undefined {
    return this.swarms.get(swarm)?.get(peer);
  }

  /** Records a sighting; returns the peer's entry as it was before, if any. */
  seen(swarm: string, peer: string, ws: ServerWebSocket<TrackerSocketData>, seeder: boolean, now: number): LocalPeer | undefined {
    let peers = this.swarms.get(swarm);
    if (!peers) this.swarms.set(swarm, (peers = new Map()));
    const before = peers.get(peer);
    if (before) peers.delete(peer);
    else this.peers++;
    peers.set(peer, { ws, seeder, seenAt: now });
    return before;
  }

  remove(swarm: string, peer: string): LocalPeer | undefined {
    const peers = this.swarms.get(swarm);
    const entry = peers?.get(peer);
    if (!peers || !entry) return undefined;
    peers.delete(peer);
    this.peers--;
    if (peers.size === 0) this.swarms.delete(swarm);
    return entry;
  }

  /** The least recently seen of this node's peers in `swarm`, other than `except`. */
  oldest(swarm: string, except: string): string | undefined {
    for (const peer of this.swarms.get(swarm)?.keys() ?? []) if (peer !== except) return peer;
    return undefined;
  }

  /** Peers last seen before `cutoff`, as [swarm, peer] pairs. */
  unseenSince(cutoff: number): [string, string][] {
    const out: [string, string][] = [];
    for (const [swarm, peers] of this.swarms) {
      for (const [peer, entry] of peers) {
        if (entry.seenAt >= cutoff) break;
        out.push([swarm, peer]);
      }
    }
    return out;
  }

  counts(): { swarms: number; peers: number } {
    return { swarms: this.swarms.size, peers: this.peers };
  }
}
