// How many sockets subscribe to each y-webrtc topic, on every node. Each node
// with subscribers of a topic states its own count on the topic's count channel
// whenever it changes; a node that gains the topic asks the others (the members
// of the topic's node group) for theirs, and a node that dies has its count set
// to 0 by its farewell. A node's count is the truth about that node, so the
// messages are absolute values: a lost one is corrected by the node's next, and
// after a gap in the cluster (when messages may have been lost) every node with
// subscribers states its count again as soon as it and each other node is back.
// The state of a topic also keeps its hub name, so a publish builds no string for it.
import { nanoid } from "nanoid";
import type { Hub, Payload } from "../cluster/hub.ts";
import { countGroup, countTopic, deliveryTopic, topicOfCountGroup } from "./topics.ts";

/** How long a node that gains a topic waits for the other nodes' counts before going on without them. */
export const ASK_TIMEOUT_MS = 1000;

export interface TopicState {
  /** Where its publishes go on the hub (made once per topic, not per publish). */
  hubTopic: string;
  local: number;
  /** Counts of other nodes (none are 0), and their sum. */
  others: Map<string, number>;
  othersTotal: number;
  stopListening: () => void;
  /** Settles once the other nodes' counts are known (or waiting for them gave up). */
  ready: Promise<void>;
  /** Nodes whose count is still awaited, and what to call when none is. */
  awaiting?: { nodes: Set<string>; done: () => void };
}

interface CountMessage {
  n: string;
  c: number;
  ask?: 1;
}

export class TopicCounts {
  /** Names this node on the count channels (one per server, so tests may run several in a process). */
  readonly node = nanoid(12);
  private readonly topics = new Map<string, TopicState>();

  constructor(private readonly hub: Hub, private readonly onError: (error: unknown, topic: string) => void) {
    hub.onResync((group, nodes, settled) => this.resynced(group, nodes, settled));
  }

  /** Subscribers of `topic` on every node, as this node knows it (0 when none here). */
  total(topic: string): number {
    const s = this.topics.get(topic);
    return s ? s.local + s.othersTotal : 0;
  }

  /** The topic's state, while it has subscribers here. */
  get(topic: string): Readonly<TopicState> | undefined {
    return this.topics.get(topic);
  }

  /** Topics with subscribers on this node. */
  size(): number {
    return this.topics.size;
  }

  /** A socket here subscribed to `topic`. Settles once the count is known across the cluster. */
  added(topic: string): Promise<void> {
    const s = this.topics.get(topic);
    if (s) {
      s.local++;
      this.state(topic, s.local);
      return s.ready;
    }
    return this.gained(topic);
  }

  /** A socket here left `topic` (unsubscribed or closed). */
  removed(topic: string): void {
    const s = this.topics.get(topic);
    if (!s) return;
    s.local--;
    if (s.local > 0) return this.state(topic, s.local);
    // The last one here: the others hear 0 and this node stops listening, so an empty topic costs nothing.
    this.topics.delete(topic);
    s.awaiting?.done();
    s.stopListening();
    this.hub.leave(countGroup(topic), this.node);
    this.state(topic, 0);
  }

  private gained(topic: string): Promise<void> {
    const { stop } = this.hub.listen(countTopic(topic), (data) => this.heard(topic, data));
    const s: TopicState = { hubTopic: deliveryTopic(topic), local: 1, others: new Map(), othersTotal: 0, stopListening: stop, ready: Promise.resolve() };
    this.topics.set(topic, s);
    s.ready = this.ask(topic, s).catch((error) => this.onError(error, topic));
    return s.ready;
  }

  /**
   * Joins the topic's node group (learning which nodes have subscribers), then asks them for
   * their counts. The hub keeps order: once the join is answered, the listening that came
   * before it is in effect on every node (as is the socket's subscription), so no reply is missed.
   */
  private async ask(topic: string, s: TopicState): Promise<void> {
    const farewell = { topic: countTopic(topic), data: JSON.stringify({ n: this.node, c: 0 } satisfies CountMessage) };
    const nodes = await this.hub.join(countGroup(topic), this.node, farewell);
    if (this.topics.get(topic) !== s) return; // every subscriber here left meanwhile
    const waiting = nodes.filter((n) => !s.others.has(n));
    this.publish(topic, { n: this.node, c: s.local, ask: 1 });
    if (waiting.length === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), ASK_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        s.awaiting = undefined;
        resolve();
      };
      s.awaiting = { nodes: new Set(waiting), done };
    });
  }

  /** After a cluster gap: this node's count again (each node sends its own), and no count for a node that is gone. */
  private resynced(group: string, nodes: string[], settled: boolean): void {
    const topic = topicOfCountGroup(group);
    const s = topic === undefined ? undefined : this.topics.get(topic);
    if (!s) return;
    if (settled) {
      const there = new Set(nodes);
      for (const [node, count] of s.others) {
        if (there.has(node)) continue;
        s.others.delete(node);
        s.othersTotal -= count;
      }
    }
    this.state(topic!, s.local);
  }

  private heard(topic: string, data: Payload): void {
    const s = this.topics.get(topic);
    const m = typeof data === "string" ? parseCount(data) : null;
    if (!s || !m || m.n === this.node) return;
    const before = s.others.get(m.n) ?? 0;
    if (m.c > 0) s.others.set(m.n, m.c);
    else s.others.delete(m.n);
    s.othersTotal += m.c - before;
    if (s.awaiting?.nodes.delete(m.n) && s.awaiting.nodes.size === 0) s.awaiting.done();
    if (m.ask && s.local > 0) this.state(topic, s.local);
  }

  private state(topic: string, count: number): void {
    this.publish(topic, { n: this.node, c: count });
  }

  private publish(topic: string, m: CountMessage): void {
    this.hub.publish(countTopic(topic), JSON.stringify(m));
  }
}

/** Count messages come only from nodes, but a count channel is a hub topic like any other: checked anyway. */
function parseCount(text: string): CountMessage | null {
  try {
    const m = JSON.parse(text) as CountMessage;
    return typeof m?.n === "string" && Number.isSafeInteger(m.c) && m.c >= 0 ? m : null;
  } catch {
    return null;
  }
}
