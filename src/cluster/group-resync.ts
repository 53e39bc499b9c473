import { framedResync } from "./envelope.ts";
import type { NodeLiveness } from "./node-liveness.ts";
import type { RedisLink } from "./redis-link.ts";

/**
 * `settled`: every live node has announced itself since this node's last gap, so a member
 * missing from `members` is gone; before that, it may only not be announced again yet.
 */
export type ResyncListener = (group: string, members: string[], settled: boolean) => void;

/**
 * Presence after a gap. News published while Redis was away, or before the nodes listening
 * for it had announced their interest again, is lost for good; so once a node has announced
 * itself again it reads each of its presence groups (those with a farewell topic) and hands
 * the members to the protocols, which tell their sockets what they missed. It also asks the
 * nodes listening on each group's topic to read it again: they announced themselves before
 * it did and so could not see its members. The last node to come back thus brings every
 * node up to date with who is there. Who left shows only once the others had a TTL to come
 * back (a node that did not is dead): a read a TTL after the gap is `settled`. Costs are per
 * group this node has members in: two reads and one request.
 */
export class GroupResync {
  private readonly listeners: ResyncListener[] = [];
  /** Groups to read at the end of this turn: many requests for a group cost one read. */
  private pending = new Set<string>();
  /** Until then (local time) some node may not have announced itself again since this node's gap. */
  private unsettledUntil = 0;
  private settle?: Timer;

  constructor(
    private readonly link: RedisLink,
    private readonly self: string,
    private readonly ttlMs: number,
    private readonly liveness: Pick<NodeLiveness, "isAlive" | "heard">,
    /** This node's groups; and a group's presence topic while this node has members in it. */
    private readonly groups: () => Iterable<string>,
    private readonly topicOf: (group: string) => string | undefined,
  ) {}

  add(listener: ResyncListener): void {
    this.listeners.push(listener);
  }

  /** This node announced itself again: read its groups now and a TTL later, and ask the others listening to read them. */
  announced(): void {
    this.unsettledUntil = performance.now() + this.ttlMs;
    for (const group of this.groups()) {
      const topic = this.topicOf(group);
      if (topic === undefined) continue;
      this.link.routes.publish(topic, framedResync(this.self, group));
      this.request(group);
    }
    clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      for (const group of this.groups()) this.request(group);
    }, this.ttlMs);
    this.settle.unref();
  }

  /** `node` announced itself again and asks: its members are read next, so it must not count as dead here meanwhile. */
  asked(node: string, group: string): void {
    this.liveness.heard(node);
    this.request(group);
  }

  /** Reads `group` at the end of this turn, if this node has members in it. */
  private request(group: string): void {
    if (this.listeners.length === 0 || this.topicOf(group) === undefined) return;
    if (this.pending.size === 0) setImmediate(() => this.flush());
    this.pending.add(group);
  }

  stop(): void {
    clearTimeout(this.settle);
  }

  private flush(): void {
    const groups = this.pending;
    this.pending = new Set();
    for (const group of groups) void this.read(group);
  }

  private async read(group: string): Promise<void> {
    const settled = performance.now() >= this.unsettledUntil;
    const all = await this.link.call("HGETALL", [`gp:g:${group}`]);
    // Redis away again: the next gap's re-announce reads it then.
    if (all === null || typeof all !== "object" || this.topicOf(group) === undefined) return;
    const members: string[] = [];
    for (const [member, node] of Object.entries(all as Record<string, string>)) if (this.liveness.isAlive(node)) members.push(member);
    for (const listener of this.listeners) listener(group, members, settled);
  }
}
