import type { ServerWebSocket } from "bun";
import type { Hub } from "../cluster/hub.ts";
import type { SocketHandlers } from "../http/websockets.ts";
import type { Logger } from "../log/logger.ts";
import { LocalSwarms } from "./local-swarms.ts";
import type { TrackerMetrics } from "./metrics.ts";
import { PeerIds, peerTopic } from "./peer-ids.ts";
import type { TrackerSocketData } from "./socket-data.ts";
import { failureFrame, hexOf, parseTrackerFrame, type Refusal, type TrackerRequest, type WireLimits } from "./wire.ts";

type TrackerSocket = ServerWebSocket<TrackerSocketData>;
type Announce = Exclude<TrackerRequest, { action: "scrape" }>;

export interface TrackerOptions {
  hub: Hub;
  log: Logger;
  wire: WireLimits;
  intervalS: number;
  maxPeers: number;
  peerTtlMs: number;
  maxSwarmsPerSocket: number;
}

/** Bytes of frames one socket may have waiting on the cluster; more is a flood, not a client. */
const MAX_IN_FLIGHT_BYTES = 1 << 20;

/** A swarm across the cluster: a hub group whose members are peer_id hex + `s` (seeder) or `l`. */
const swarmGroup = (hashHex: string): string => `wt:s:${hashHex}`;
const memberOf = (peerHex: string, seeder: boolean): string => peerHex + (seeder ? "s" : "l");
/** Members are 41 characters; anything else in a group (a scrape's probe) is not a peer. */
const isPeerMember = (m: string): boolean => m.length === 41;

/**
 * The WebSocket tracker: swarms per info_hash whose members live in the hub (so a swarm spans
 * nodes), offers relayed one per other peer picked at random, answers to the peer they name.
 * This node keeps only its own peers, for the swarm cap, the TTL and leaving on close.
 */
/** Refused frames (junk, or past the budget) in a row before the socket is closed: no client sends that many. */
export const MAX_REFUSED_IN_ROW = 1000;

export class Tracker {
  readonly local = new LocalSwarms();
  private readonly ids: PeerIds;
  private readonly sweeper: Timer;
  /** Names of scrape probes (see `members`). */
  private probes = 0;

  constructor(private readonly o: TrackerOptions, private readonly metrics: TrackerMetrics) {
    this.ids = new PeerIds(o.hub, (ws, peer) => this.leaveAll(ws, peer));
    // An offer that reached one of our peers earns it the answer it owes (see AnnounceBudget).
    o.hub.onNote((topic, note) => {
      if (note === "o") this.ids.owner(topic)?.data.budget.offered(o.maxPeers);
    });
    this.sweeper = setInterval(() => this.sweep(), Math.min(o.peerTtlMs / 4, 60_000));
    this.sweeper.unref();
  }

  handlers(): SocketHandlers<TrackerSocketData> {
    return { message: (ws, frame) => this.onFrame(ws, frame), close: (ws) => this.closed(ws) };
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private onFrame(ws: TrackerSocket, frame: string | Buffer): void {
    const d = ws.data;
    if (typeof frame !== "string") return this.refuse(ws, "invalid", { error: "expected a JSON text frame" });
    const request = parseTrackerFrame(frame, this.o.wire);
    if ("error" in request) return this.refuse(ws, "invalid", request);
    const swarm = request.action === "scrape" ? undefined : request.infoHash;
    if ((d.inFlight ?? 0) + frame.length > MAX_IN_FLIGHT_BYTES || !d.budget.take(d.joined?.length ?? 0)) {
      return this.refuse(ws, "budget", { error: "too many requests: slow down", action: request.action === "scrape" ? "scrape" : "announce", infoHash: swarm });
    }
    if (d.refusedInRow) d.refusedInRow = 0;
    // Most frames finish at once (a bound peer_id, a single node): no promise, no closure. Only
    // those that wait on the cluster queue the socket's later frames behind them.
    if (d.queue) return this.queued(ws, d.queue.then(() => this.handle(ws, request)), frame.length);
    let pending: Promise<void> | void;
    try {
      pending = this.handle(ws, request);
    } catch (error) {
      pending = Promise.reject(error);
    }
    if (pending) this.queued(ws, pending, frame.length);
  }

  /** Holds the socket's next frames until `pending` settled; one bad frame is logged, never fatal. */
  private queued(ws: TrackerSocket, pending: Promise<void>, length: number): void {
    const d = ws.data;
    d.inFlight = (d.inFlight ?? 0) + length;
    d.queue = pending
      .catch((error) => this.o.log.warn("tracker request failed", { error: (error as Error).message }))
      .finally(() => {
        if ((d.inFlight! -= length) === 0) d.queue = undefined;
      });
  }

  private handle(ws: TrackerSocket, r: TrackerRequest): Promise<void> | void {
    return r.action === "scrape" ? this.scrape(ws, r.infoHashes) : this.announce(ws, r);
  }

  private announce(ws: TrackerSocket, r: Announce): Promise<void> | void {
    this.metrics.announces.inc();
    if (this.ids.bound(ws, r.peerId)) return this.announceAs(ws, r);
    return this.ids.bind(ws, r.peerId).then((refusal) => {
      if (refusal !== null) return this.refuse(ws, "owner", { error: refusal, action: "announce", infoHash: r.infoHash });
      if (ws.readyState === 1) return this.announceAs(ws, r);
    });
  }

  /** An announce by the peer_id's owner. This node's own maps use the binary ids; hub names, hex. */
  private announceAs(ws: TrackerSocket, r: Announce): Promise<void> | void {
    const { infoHash: hash, peerId: peer } = r;
    if (r.event === "stopped") {
      this.leave(ws, hash, peer);
      return this.members(hexOf(hash)).then((members) => {
        const { complete, incomplete } = this.counted(members);
        if (ws.readyState === 1) ws.send(JSON.stringify({ action: "announce", complete, incomplete, interval: this.o.intervalS, info_hash: r.infoHash }));
      });
    }
    const before = this.local.get(hash, peer);
    // An answer from a peer already in the swarm needs no trip to the cluster.
    if (r.action === "answer" && before) {
      before.seenAt = performance.now();
      return this.relayAnswer(r);
    }
    const joined = (ws.data.joined ??= []);
    const key = hash + peer;
    if (!joined.includes(key)) {
      if (joined.length >= this.o.maxSwarmsPerSocket) {
        return this.refuse(ws, "limit", { error: `in too many swarms (at most ${this.o.maxSwarmsPerSocket} per connection)`, action: "announce", infoHash: r.infoHash });
      }
      joined.push(key);
      ws.data.budget.entered(joined.length);
    }
    // Once complete, a peer stays a seeder (as the reference counts it).
    const seeder = r.seeder || r.event === "completed" || before?.seeder === true;
    this.local.seen(hash, peer, ws, seeder, performance.now());
    const group = swarmGroup(hexOf(hash));
    const peerHex = hexOf(peer);
    if (before && before.seeder !== seeder) this.o.hub.leave(group, memberOf(peerHex, before.seeder));
    return this.o.hub.join(group, memberOf(peerHex, seeder)).then((members) => this.joined(ws, r, peerHex, seeder, members));
  }

  /** The rest of an announce, once the swarm's members across the cluster are known. */
  private joined(ws: TrackerSocket, r: Announce, peerHex: string, seeder: boolean, members: string[]): void {
    const others = this.peersIn(members, peerHex);
    if (others.length + 1 > this.o.maxPeers) this.evictOldest(r.infoHash, r.peerId);
    if (r.action === "answer") return this.relayAnswer(r);
    const { complete, incomplete } = this.counted(others);
    if (ws.readyState !== 1) return;
    ws.send(JSON.stringify({ action: "announce", complete: complete + (seeder ? 1 : 0), incomplete: incomplete + (seeder ? 0 : 1), interval: this.o.intervalS, info_hash: r.infoHash }));
    // Each offer to a different other peer, picked at random.
    const count = Math.min(r.offers.length, others.length);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (others.length - i));
      const target = others[j]!;
      others[j] = others[i]!;
      const offer = r.offers[i]!;
      this.relay(peerTopic(target.slice(0, 40)), { action: "announce", offer: offer.offer, offer_id: offer.offerId, peer_id: r.peerId, info_hash: r.infoHash }, "offer");
    }
  }

  private async scrape(ws: TrackerSocket, hashes: string[]): Promise<void> {
    this.metrics.scrapes.inc();
    const files: Record<string, { complete: number; incomplete: number; downloaded: number }> = {};
    const counts = await Promise.all(hashes.map((hash) => this.members(hexOf(hash)).then((members) => this.counted(members))));
    hashes.forEach((hash, i) => {
      const { complete, incomplete } = counts[i]!;
      // As the reference: completions are not counted apart, so this is a lower bound.
      files[hash] = { complete, incomplete, downloaded: complete };
    });
    if (ws.readyState === 1) ws.send(JSON.stringify({ action: "scrape", files, flags: { min_request_interval: this.o.intervalS * 5 } }));
  }

  /**
   * A swarm's peers across the cluster, asked without being one: join under a name no peer
   * has and leave at once. The probe is never offered to (it is not a peer member).
   */
  private async members(hashHex: string): Promise<string[]> {
    const group = swarmGroup(hashHex);
    const probe = `~${++this.probes}`;
    try {
      return (await this.o.hub.join(group, probe)).filter(isPeerMember);
    } finally {
      this.o.hub.leave(group, probe);
    }
  }

  private counted(members: string[]): { complete: number; incomplete: number } {
    const complete = members.reduce((n, m) => n + (m.endsWith("s") ? 1 : 0), 0);
    return { complete, incomplete: members.length - complete };
  }

  /** The other peers among a group's members. */
  private peersIn(members: string[], self: string): string[] {
    return members.filter((m) => isPeerMember(m) && !m.startsWith(self));
  }

  private relayAnswer(r: Extract<Announce, { action: "answer" }>): void {
    this.relay(peerTopic(hexOf(r.toPeerId)), { action: "announce", answer: r.answer, offer_id: r.offerId, peer_id: r.peerId, info_hash: r.infoHash }, "answer");
  }

  private relay(topic: string, frame: Record<string, unknown>, type: "offer" | "answer"): void {
    this.metrics.relayed[type].inc();
    // Offers are noted where they arrive: they earn the receiving socket its answer.
    this.o.hub.deliver(topic, JSON.stringify(frame), () => this.metrics.undelivered.inc(), type === "offer" ? "o" : undefined);
  }

  /** Drops one of this node's least recently seen peers from a swarm past its cap. */
  private evictOldest(hash: string, except: string): void {
    const peer = this.local.oldest(hash, except);
    const entry = peer === undefined ? undefined : this.local.get(hash, peer);
    if (!entry || peer === undefined) return;
    this.metrics.evicted.full.inc();
    this.leave(entry.ws, hash, peer);
  }

  private sweep(): void {
    for (const [hash, peer] of this.local.unseenSince(performance.now() - this.o.peerTtlMs)) {
      const entry = this.local.get(hash, peer);
      if (!entry) continue;
      this.metrics.evicted.unseen.inc();
      this.leave(entry.ws, hash, peer);
    }
  }

  private leave(ws: TrackerSocket, hash: string, peer: string): void {
    const joined = ws.data.joined;
    const i = joined ? joined.indexOf(hash + peer) : -1;
    if (i !== -1) {
      // Order does not matter: the last takes its place.
      joined![i] = joined![joined!.length - 1]!;
      joined!.pop();
    }
    const entry = this.local.remove(hash, peer);
    if (entry) this.o.hub.leave(swarmGroup(hexOf(hash)), memberOf(hexOf(peer), entry.seeder));
  }

  /** Leaves every swarm `ws` is in under `peer` (all of them when not given). */
  private leaveAll(ws: TrackerSocket, peer?: string): void {
    for (const key of [...(ws.data.joined ?? [])]) if (peer === undefined || key.endsWith(peer)) this.leave(ws, key.slice(0, 20), key.slice(20));
  }

  private closed(ws: TrackerSocket): void {
    this.leaveAll(ws);
    this.ids.releaseAll(ws);
  }

  private refuse(ws: TrackerSocket, reason: "invalid" | "budget" | "owner" | "limit", r: Refusal): void {
    this.metrics.refused[reason].inc();
    if (ws.readyState !== 1) return;
    ws.send(failureFrame(r));
    // Junk and frames past the budget are answered, but a socket that sends nothing else is a flood: stopped.
    if (reason !== "invalid" && reason !== "budget") return;
    const d = ws.data;
    d.refusedInRow = (d.refusedInRow ?? 0) + 1;
    if (d.refusedInRow >= MAX_REFUSED_IN_ROW) ws.close(1008, "too many refused requests");
  }
}
