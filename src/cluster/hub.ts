import type { ServerWebSocket } from "bun";

export type Payload = string | Uint8Array;

/** Where a node's own sockets are reached: a Bun server, or the TLS listener that may span two. */
export interface LocalSockets {
  publish(topic: string, data: Payload): number;
  subscriberCount(topic: string): number;
}

/** See `Hub.locate`. */
export type Location = { at: "here" } | { at: "node"; url: string; credential: string } | { at: "nowhere" };

/** A listener on a topic (see `Hub.listen`). */
export interface Listening {
  /** Resolves once a publish on any node reaches the listener. */
  ready: Promise<void>;
  stop(): void;
}

/** A name held by one socket across every node (see `Hub.claim`). */
export interface Claim {
  /** Gives the name up, unless someone has taken it since; watchers of the name hear it is gone. */
  release(): void;
}

/** What the others hear about a group member whose node died (e.g. a room's `peer-left`). */
export interface Farewell {
  topic: string;
  data: string;
}

/** How this node sees the cluster, for `/health`. */
export interface HubStatus {
  node: string;
  /** `degraded`: the cluster store is unreachable; local traffic is still served. */
  state: "ok" | "degraded";
  /** Nodes this node currently sees alive, itself included. */
  nodes: number;
  /** Messages this node routed through Redis, and Redis calls that failed, since start. */
  routed: number;
  redisErrors: number;
}

/**
 * The one seam for everything that crosses connections: delivery (topics that
 * sockets subscribe to) and ownership (who holds a pod id, a peer key in a
 * room, a tunnel name) and presence (who is in a room). Protocol code talks
 * only to this. `LocalHub` is Bun's pub/sub plus in-memory maps; `RedisHub`
 * carries the same calls between nodes.
 */
export interface Hub {
  /** To every socket subscribed to `topic`, wherever it is. */
  publish(topic: string, data: Payload): void;
  /**
   * Like publish; `onNobody` runs (now or later) when no socket anywhere listens on `topic`.
   * `note`, if given, is handed to this hub's `onNote` listeners on each node where `data` arrives,
   * so a protocol can learn what reached its sockets without reading their frames.
   */
  deliver(topic: string, data: Payload, onNobody: () => void, note?: string): void;
  /** Adds a listener for the notes of `deliver` (see there). */
  onNote(listener: (topic: string, note: string) => void): void;
  /** In effect on every node once any promise this hub returns later has resolved (a cluster hub keeps order). */
  subscribe(ws: ServerWebSocket<unknown>, topic: string): void;
  /** Also call it for a closing socket's topics: Bun drops them silently, a cluster must hear it. */
  unsubscribe(ws: ServerWebSocket<unknown>, topic: string): void;
  /**
   * `listener` hears, in this process, what is `publish`ed to `topic` on any node, for wake-ups
   * that are not socket frames (a long poll). Listen, await `ready`, then read the state a
   * publish announces: a change made after the read is heard, one made before it is seen.
   * `afterGap`, if given, runs after a gap in the cluster once this node announced itself again:
   * what was published meanwhile may be lost, so read the state again. One node has no gaps.
   */
  listen(topic: string, listener: (data: Payload) => void, afterGap?: () => void): Listening;
  /**
   * Takes `name` with a short `value` (what others may learn of the holder);
   * whoever held it before hears `onLost` on its own node, and its watchers hear it is gone.
   * Resolves once the claim stands.
   */
  claim(name: string, value: string, onLost: () => void): Promise<Claim>;
  /** The value of whoever holds `name`, or null (a holder whose node died holds nothing). */
  holder(name: string): Promise<string | null>;
  /**
   * `onGone` runs once when the holder of `name` (at the time of the call) releases it,
   * is replaced, or its node dies. Nothing runs if nobody holds it. Returns the way to stop watching.
   */
  watch(name: string, onGone: () => void): () => void;
  /**
   * Adds `member` to `group` and resolves with the other members. `farewell`, if given, is
   * published to its topic should the member's node die while it is in the group (a live node
   * says goodbye itself; `leave` drops it unsaid). A single node ignores it.
   */
  join(group: string, member: string, farewell?: Farewell): Promise<string[]>;
  /**
   * After a gap in the cluster (Redis restarted, lost or frozen past the TTL) presence news may
   * have been lost: once this node, and again once each other node, has announced itself again,
   * `listener` hears every member (on any live node) of each group joined here with a farewell
   * that still has members here. A protocol compares it with what its sockets were told. Until
   * every live node had the time to announce itself again (a TTL) a member missing may only be
   * late: `settled` says when a missing member is gone. A single node has no gaps and never calls it.
   */
  onResync(listener: (group: string, members: string[], settled: boolean) => void): void;
  leave(group: string, member: string): void;
  /**
   * Where the holder of `name` takes direct HTTP requests (for what is too big or too
   * long-lived for messages, e.g. tunnelled bodies): on this node, on another node at its
   * advertised address, or nowhere (nobody holds it, or its node advertises no address).
   */
  locate(name: string): Promise<Location>;
  /** Whether a direct request presents the credential this node gave out with its address. */
  admitsNode(credential: string | null): boolean;
  /** null for a single node. */
  status(): HubStatus | null;
  /** Leaves the cluster: what this node held is given up. */
  close(): Promise<void>;
  /**
   * Presence in one step, so that a member's list and the announcements after it
   * neither overlap nor leave a gap: unless `group` has more than `limit` members
   * besides `member` (then it resolves null and changes nothing), sends `ws` the frame
   * `list(others)`, adds `member`, subscribes `ws` to `topic` and publishes
   * `announce` there to everyone but `ws`. Resolves with the others.
   */
  enter(ws: ServerWebSocket<unknown>, entry: Entry): Promise<string[] | null>;
}

/** What `Hub.enter` needs to put a socket into a group it is told about. */
export interface Entry {
  group: string;
  member: string;
  /** Where the group's presence news goes. */
  topic: string;
  /** Most members besides this one the group may have for it to enter. */
  limit: number;
  list: (others: string[]) => Payload;
  announce: Payload;
  /** Published to `topic` if the member's node dies while it is in the group (a live node says it itself); one node ignores it. */
  farewell: string;
}

/** The origin of a pod subscribes here; visitors' offers and candidates go here. */
export const podTopic = (podId: string): string => `p:${podId}`;
/**
 * The visitor that opened a session subscribes here; answers and candidates go here.
 * An origin only ever publishes to topics of its own pod, so it can reach no other pod's
 * sessions. The length prefix keeps ("a:b","c") and ("a","b:c") apart.
 */
export const sessionTopic = (podId: string, sessionId: string): string => `s:${podId.length}:${podId}:${sessionId}`;
