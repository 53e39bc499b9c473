import type { ServerWebSocket } from "bun";

export type Payload = string | Uint8Array;

/** A name held by one socket across every node (see `Hub.claim`). */
export interface Claim {
  /** Gives the name up, unless someone has taken it since. */
  release(): void;
}

/**
 * The one seam for everything that crosses connections: delivery (topics that
 * sockets subscribe to) and ownership (who holds a pod id, a peer key in a
 * room, a tunnel name) and presence (who is in a room). Protocol code talks
 * only to this. `LocalHub` is Bun's pub/sub plus in-memory maps; a cluster hub
 * carries the same calls between nodes.
 */
export interface Hub {
  /** To every socket subscribed to `topic`, wherever it is. */
  publish(topic: string, data: Payload): void;
  /** Like publish; `onNobody` runs (now or later) when no socket anywhere listens on `topic`. */
  deliver(topic: string, data: Payload, onNobody: () => void): void;
  subscribe(ws: ServerWebSocket<unknown>, topic: string): void;
  unsubscribe(ws: ServerWebSocket<unknown>, topic: string): void;
  /**
   * Takes `name` with a short `value` (what others may learn of the holder);
   * whoever held it before hears `onLost` on its own node. Resolves once the claim stands.
   */
  claim(name: string, value: string, onLost: () => void): Promise<Claim>;
  /** The value of whoever holds `name`, or null. */
  holder(name: string): Promise<string | null>;
  /** Adds `member` to `group` and resolves with the other members. */
  join(group: string, member: string): Promise<string[]>;
  leave(group: string, member: string): void;
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
/** The visitor that opened a session subscribes here; answers and candidates go here. */
export const sessionTopic = (sessionId: string): string => `s:${sessionId}`;
