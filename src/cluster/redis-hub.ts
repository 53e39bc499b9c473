import type { ServerWebSocket } from "bun";
import { nanoid } from "nanoid";
import { decodeAll, framedData } from "./envelope.ts";
import { Logger } from "../log/logger.ts";
import type { Claim, Entry, Farewell, Hub, HubStatus, Listening, LocalSockets, Location, Payload } from "./hub.ts";
import { GroupResync, type ResyncListener } from "./group-resync.ts";
import { Listeners } from "./listeners.ts";
import { NodeAddresses } from "./node-addresses.ts";
import { NodeLiveness } from "./node-liveness.ts";
import { batches, parseClaim, RedisClaims } from "./redis-claims.ts";
import { RedisLink } from "./redis-link.ts";
import { FORGET_NODE, INDEXED_ADD, JOIN, LEAVE } from "./redis-scripts.ts";
import { RedisWatches } from "./redis-watches.ts";

export interface RedisHubOptions {
  /** redis://host:port of the cluster. */
  url: string;
  /** A node silent this long is dead: its origins, watches and members are gone. */
  ttlMs: number;
  /** http://host:port where other nodes reach this one directly (`--cluster-advertise`). */
  advertise?: () => string;
  server: () => LocalSockets;
  log?: Logger;
}

/**
 * The hub of a cluster node. Sockets are local; Redis knows which nodes have a subscriber of
 * each topic, and a script PUBLISHes each message to those nodes' channels (one channel per
 * node, so subscriptions stay bounded however many pods there are). Commands go on one
 * connection in order, so the frames of one socket reach other nodes in the order they came.
 * The local maps are the truth about this node; Redis is told again after any gap.
 */
export class RedisHub implements Hub {
  readonly node = nanoid(12);
  private readonly link: RedisLink;
  private readonly liveness: NodeLiveness;
  private readonly claims: RedisClaims;
  private readonly watches: RedisWatches;
  private readonly addresses: NodeAddresses;
  /** Topics with at least one local subscriber or listener, as announced to Redis. */
  private readonly interests = new Set<string>();
  private readonly listeners = new Listeners();
  /** Local members of each group, with their stored farewells ('' for none). */
  private readonly groups = new Map<string, Map<string, string>>();
  /** The farewell topic of each group that has one and members here: where its presence news goes. */
  private readonly groupTopics = new Map<string, string>();
  private readonly resync: GroupResync;
  private readonly noteListeners: ((topic: string, note: string) => void)[] = [];
  private readonly sweeper: Timer;
  private reannouncing = false;
  /** Another re-announce was asked for while one ran. */
  private again = false;
  /** false from a gap until everything this node owns was announced again. */
  private announced = true;
  private closed = false;
  readonly ready: Promise<void>;

  constructor(private readonly options: RedisHubOptions) {
    this.link = new RedisLink(options.url, this.node, {
      message: (text) => this.onMessage(text),
      reconnected: () => void this.reannounce(),
    }, options.log ?? Logger.errorsOnly());
    this.liveness = new NodeLiveness(this.link, this.node, options.ttlMs, {
      dead: (node) => this.nodeDied(node),
      absent: () => void this.reannounce(),
    });
    this.claims = new RedisClaims(this.link, this.node);
    this.addresses = new NodeAddresses(this.link, this.node, options.advertise);
    this.watches = new RedisWatches(this.link, this.node, (node) => this.liveness.isAlive(node));
    this.resync = new GroupResync(this.link, this.node, options.ttlMs, this.liveness, () => this.groups.keys(), (group) => this.groupTopics.get(group));
    // Bun drops a closed socket's topics without telling us: forget those nobody listens on any more.
    this.sweeper = setInterval(() => this.sweep(), options.ttlMs);
    this.sweeper.unref();
    this.ready = this.link.start().then(() => Promise.all([this.liveness.beat(), this.addresses.announce()])).then(() => undefined);
  }

  publish(topic: string, data: Payload): void {
    this.options.server().publish(topic, data);
    this.listeners.hear(topic, data);
    this.link.routes.publish(topic, framedData(topic, data));
  }

  deliver(topic: string, data: Payload, onNobody: () => void, note?: string): void {
    const server = this.options.server();
    const here = server.subscriberCount(topic) > 0;
    if (here) {
      server.publish(topic, data);
      if (note !== undefined) this.noted(topic, note);
    }
    // No receiver (0) or no Redis (undefined): nobody elsewhere heard it.
    this.link.routes.publish(topic, framedData(topic, data, note), here ? undefined : (receivers) => (receivers ? undefined : onNobody()));
  }

  onNote(listener: (topic: string, note: string) => void): void {
    this.noteListeners.push(listener);
  }

  onResync(listener: ResyncListener): void {
    this.resync.add(listener);
  }

  subscribe(ws: ServerWebSocket<unknown>, topic: string): void {
    ws.subscribe(topic);
    this.gainInterest(topic);
  }

  unsubscribe(ws: ServerWebSocket<unknown>, topic: string): void {
    ws.unsubscribe(topic);
    this.loseInterestIfUnheard(topic);
  }

  listen(topic: string, listener: (data: Payload) => void, afterGap?: () => void): Listening {
    const stop = this.listeners.add(topic, listener, () => this.loseInterestIfUnheard(topic), afterGap);
    this.gainInterest(topic);
    // The interest goes out before the PING, on the same connection: its reply means it is in effect.
    return { ready: this.link.call("PING", []).then(() => undefined), stop };
  }

  claim(name: string, value: string, onLost: () => void): Promise<Claim> {
    return this.claims.claim(name, value, onLost);
  }

  async holder(name: string): Promise<string | null> {
    return (await this.liveClaim(name))?.value ?? null;
  }

  async locate(name: string): Promise<Location> {
    const claim = await this.liveClaim(name);
    if (!claim) return { at: "nowhere" };
    if (claim.node === this.node) return { at: "here" };
    const address = await this.addresses.lookup(claim.node);
    return address ? { at: "node", ...address } : { at: "nowhere" };
  }

  admitsNode(credential: string | null): boolean {
    return this.addresses.admits(credential);
  }

  watch(name: string, onGone: () => void): () => void {
    return this.watches.watch(name, onGone);
  }

  async join(group: string, member: string, farewell?: Farewell): Promise<string[]> {
    let mine = this.groups.get(group);
    if (!mine) this.groups.set(group, (mine = new Map()));
    const said = farewell ? `${Buffer.byteLength(farewell.topic)}:${farewell.topic}${framedData(farewell.topic, farewell.data)}` : "";
    mine.set(member, said);
    if (farewell) this.groupTopics.set(group, farewell.topic);
    const all = await this.link.run(JOIN, [`gp:g:${group}`, `gp:ng:${this.node}`, `gp:gf:${group}`], [member, this.node, group, said]);
    const others: string[] = [];
    if (Array.isArray(all)) {
      for (let i = 0; i + 1 < all.length; i += 2) if (all[i] !== member && this.liveness.isAlive(all[i + 1])) others.push(all[i]);
    } else for (const m of mine.keys()) if (m !== member) others.push(m);
    return others;
  }

  /**
   * Across nodes the steps cannot be one: the socket listens first, so no news of a
   * member who joins meanwhile is lost (at worst it comes just before the list). A
   * group found full (or a socket closed meanwhile) is left again, without a farewell.
   */
  async enter(ws: ServerWebSocket<unknown>, entry: Entry): Promise<string[] | null> {
    this.subscribe(ws, entry.topic);
    const others = await this.join(entry.group, entry.member, { topic: entry.topic, data: entry.farewell });
    if (others.length > entry.limit || ws.readyState !== 1) {
      this.leave(entry.group, entry.member);
      this.unsubscribe(ws, entry.topic);
      return null;
    }
    ws.send(entry.list(others));
    // Here to everyone but the newcomer; other nodes through Redis.
    ws.publish(entry.topic, entry.announce);
    this.link.routes.publish(entry.topic, framedData(entry.topic, entry.announce));
    return others;
  }

  leave(group: string, member: string): void {
    const mine = this.groups.get(group);
    if (!mine?.delete(member)) return;
    if (mine.size === 0) {
      this.groups.delete(group);
      this.groupTopics.delete(group);
    }
    void this.link.run(LEAVE, [`gp:g:${group}`, `gp:gf:${group}`], [member, this.node]);
  }

  status(): HubStatus {
    const ok = this.link.up() && this.liveness.healthy() && this.announced;
    return { node: this.node, state: ok ? "ok" : "degraded", nodes: this.liveness.liveCount(), routed: this.link.routes.routed, redisErrors: this.link.failures };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.liveness.stop();
    this.resync.stop();
    // Queued after every release the closing sockets sent: others see this node leave at once.
    // A Redis that does not answer must not hold up the shutdown: the TTL covers it then.
    await Promise.race([this.link.run(FORGET_NODE, [], [this.node, String(this.options.ttlMs)]), Bun.sleep(1000)]);
    this.link.close();
  }

  private onMessage(text: string): void {
    const server = this.options.server();
    for (const m of decodeAll(text)) {
      if (m.kind === "lost") this.claims.lost(m.epoch, m.name);
      else if (m.kind === "gone") this.watches.gone(m.epoch, m.name);
      else if (m.kind === "resync") this.resync.asked(m.node, m.group);
      else {
        server.publish(m.topic, m.data);
        this.listeners.hear(m.topic, m.data);
        if (m.note !== undefined && server.subscriberCount(m.topic) > 0) this.noted(m.topic, m.note);
      }
    }
  }

  private noted(topic: string, note: string): void {
    for (const listener of this.noteListeners) listener(topic, note);
  }

  private gainInterest(topic: string): void {
    if (this.interests.has(topic)) return;
    this.interests.add(topic);
    // Sent before anything this node publishes next: whoever answers it finds this node listed.
    this.link.routes.interest(topic, true);
  }

  private loseInterestIfUnheard(topic: string): void {
    if (this.options.server().subscriberCount(topic) > 0 || this.listeners.has(topic) || !this.interests.delete(topic)) return;
    this.link.routes.interest(topic, false);
  }

  private sweep(): void {
    for (const topic of this.interests) this.loseInterestIfUnheard(topic);
  }

  /** The claim on `name` if its node is alive. */
  private async liveClaim(name: string): Promise<{ node: string; value: string } | null> {
    const stored = await this.link.call("GET", [`gp:c:${name}`]);
    if (stored === undefined) throw new Error("the cluster is unreachable");
    const claim = typeof stored === "string" ? parseClaim(stored) : null;
    return claim && this.liveness.isAlive(claim.node) ? claim : null;
  }

  private nodeDied(node: string): void {
    this.watches.nodeDied(node);
    this.addresses.forget(node);
    // One node cleans up after the dead one; the lock lasts long enough for it to finish.
    void this.link.call("SET", [`gp:lock:forget:${node}`, this.node, "NX", "PX", String(this.options.ttlMs)]).then((won) => {
      if (won === "OK") void this.link.run(FORGET_NODE, [], [node, String(this.options.ttlMs)]);
    });
  }

  /**
   * Tells Redis again everything this node owns: after a reconnect, a Redis restart, or a partition.
   * Until that went through without a failure this node reports itself degraded.
   */
  private async reannounce(): Promise<void> {
    this.announced = false;
    if (this.reannouncing) return void (this.again = true);
    this.reannouncing = true;
    try {
      do {
        this.again = false;
        const failures = this.link.failures;
        await this.announceAll();
        if (this.link.failures !== failures) {
          this.again = true;
          await Bun.sleep(250);
        }
      } while (this.again && !this.closed);
      this.announced = true;
      // Presence news may have been lost meanwhile: bring this node's groups, and the others', up to date.
      this.resync.announced();
      this.listeners.gap();
    } finally {
      this.reannouncing = false;
    }
  }

  private async announceAll(): Promise<void> {
    // First of all: a node that does not see this one's heartbeat for a TTL counts it dead and drops what it announces next.
    await this.liveness.beat();
    for (const batch of batches([...this.interests])) {
      await Promise.all(batch.map((topic) => this.link.run(INDEXED_ADD, [`gp:t:${topic}`, `gp:ni:${this.node}`], [this.node, topic])));
    }
    const memberships = [...this.groups].flatMap(([group, members]) => [...members].map(([member, said]) => [group, member, said] as const));
    for (const batch of batches(memberships)) {
      await Promise.all(batch.map(([group, member, said]) => this.link.run(JOIN, [`gp:g:${group}`, `gp:ng:${this.node}`, `gp:gf:${group}`], [member, this.node, group, said])));
    }
    await this.claims.recheck();
    await this.watches.recheck();
    await this.addresses.announce();
  }
}
