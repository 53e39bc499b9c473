// What each room's sockets on this node were told about its members, so that after a gap in
// the cluster a resync tells each socket only what it missed: nothing twice, nothing left out.
import type { Hub, Payload } from "../cluster/hub.ts";

interface Told {
  /** The socket's own key. */
  self: string;
  /** Members in `known` this socket was not told of (normally none: only a list read during a gap leaves some out). */
  missing: Set<string>;
}

interface RoomView<S> {
  /** Members some socket here was told of, or is: every list's members, and the room's news since. */
  known: Set<string>;
  /** Sockets entering (null: no list yet) or in the room on this node. */
  sockets: Map<S, Told | null>;
  stop: () => void;
}

/** What a resync tells one socket. */
export interface Missed<S> {
  socket: S;
  joined: string[];
  left: string[];
}

/** One listener per room with sockets here: a room's news is heard once per node, not per socket. */
export class RoomViews<S> {
  private readonly rooms = new Map<string, RoomView<S>>();

  constructor(
    private readonly hub: Hub,
    private readonly topicOf: (room: string) => string,
  ) {}

  /** `socket` subscribes to the room's news now; its list comes with `entered`. */
  entering(socket: S, room: string): void {
    let view = this.rooms.get(room);
    if (!view) {
      const { stop } = this.hub.listen(this.topicOf(room), (data) => this.heard(room, data));
      this.rooms.set(room, (view = { known: new Set(), sockets: new Map(), stop }));
    }
    view.sockets.set(socket, null);
  }

  /** `socket` (key `self`) was sent the list `others`; the sockets here were told it joined. */
  entered(socket: S, room: string, self: string, others: string[]): void {
    const view = this.rooms.get(room);
    if (!view?.sockets.has(socket)) return;
    for (const member of others) {
      if (view.known.has(member)) continue;
      // Listed before its news came: the others here have not heard of it yet.
      view.known.add(member);
      for (const told of view.sockets.values()) if (told && told.self !== member) told.missing.add(member);
    }
    const listed = new Set(others);
    const missing = new Set<string>();
    for (const member of view.known) if (member !== self && !listed.has(member)) missing.add(member);
    view.known.add(self);
    for (const told of view.sockets.values()) told?.missing.delete(self);
    view.sockets.set(socket, { self, missing });
  }

  /** `socket` is out of the room (closed, replaced, refused); the last one here stops listening. */
  gone(socket: S, room: string): void {
    const view = this.rooms.get(room);
    if (!view?.sockets.delete(socket) || view.sockets.size > 0) return;
    view.stop();
    this.rooms.delete(room);
  }

  /**
   * The room's members across the cluster after a gap: what each socket here missed (who left
   * only once `settled`). Afterwards each knows them.
   */
  resync(room: string, members: string[], settled: boolean): Missed<S>[] {
    const view = this.rooms.get(room);
    if (!view) return [];
    const truth = new Set(members);
    const here = new Set<string>();
    for (const told of view.sockets.values()) if (told) here.add(told.self);
    const out: Missed<S>[] = [];
    for (const [socket, told] of view.sockets) {
      if (!told) continue;
      const knows = (m: string) => view.known.has(m) && !told.missing.has(m);
      const joined = members.filter((m) => m !== told.self && !knows(m));
      // A socket here is in the room whatever a read during another gap says.
      const left = settled ? [...view.known].filter((m) => !truth.has(m) && !here.has(m) && knows(m)) : [];
      if (settled) told.missing.clear();
      else for (const m of joined) told.missing.delete(m);
      if (joined.length > 0 || left.length > 0) out.push({ socket, joined, left });
    }
    if (settled) view.known = new Set([...truth, ...here]);
    else for (const m of members) view.known.add(m);
    return out;
  }

  private heard(room: string, data: Payload): void {
    const view = this.rooms.get(room);
    const news = typeof data === "string" ? presenceNews(data) : null;
    if (!view || !news) return;
    if (news.type === "peer-joined") view.known.add(news.peer);
    else view.known.delete(news.peer);
    for (const told of view.sockets.values()) told?.missing.delete(news.peer);
  }
}

/** A room topic carries only the server's own presence news; checked anyway. */
function presenceNews(text: string): { type: "peer-joined" | "peer-left"; peer: string } | null {
  try {
    const m = JSON.parse(text) as { type?: unknown; peer?: unknown };
    return (m.type === "peer-joined" || m.type === "peer-left") && typeof m.peer === "string" ? { type: m.type, peer: m.peer } : null;
  } catch {
    return null;
  }
}
