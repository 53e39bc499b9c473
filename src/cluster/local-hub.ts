import type { ServerWebSocket } from "bun";
import type { Claim, Entry, Farewell, Hub, HubStatus, Listening, LocalSockets, Location, Payload } from "./hub.ts";
import { Listeners } from "./listeners.ts";

interface Holding {
  value: string;
  onLost: () => void;
}

/** One process: Bun's native pub/sub for delivery, maps for ownership, watches and presence. */
export class LocalHub implements Hub {
  private readonly holdings = new Map<string, Holding>();
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly groups = new Map<string, Set<string>>();
  private readonly noteListeners: ((topic: string, note: string) => void)[] = [];
  private readonly listeners = new Listeners();

  constructor(private readonly server: () => LocalSockets) {}

  publish(topic: string, data: Payload): void {
    this.server().publish(topic, data);
    this.listeners.hear(topic, data);
  }

  deliver(topic: string, data: Payload, onNobody: () => void, note?: string): void {
    const server = this.server();
    // publish answers the bytes sent, 0 for nobody (or for a socket being cut off for not
    // reading): one native call per frame instead of a count, then a send. Only an empty
    // frame sends 0 bytes to a listener, so only then is the count needed.
    if (server.publish(topic, data) === 0 && (data.length > 0 || server.subscriberCount(topic) === 0)) return onNobody();
    if (note !== undefined) for (const listener of this.noteListeners) listener(topic, note);
  }

  onNote(listener: (topic: string, note: string) => void): void {
    this.noteListeners.push(listener);
  }

  /** One process loses no news: nothing to resync. */
  onResync(): void {}

  subscribe(ws: ServerWebSocket<unknown>, topic: string): void {
    ws.subscribe(topic);
  }

  unsubscribe(ws: ServerWebSocket<unknown>, topic: string): void {
    ws.unsubscribe(topic);
  }

  listen(topic: string, listener: (data: Payload) => void): Listening {
    return { ready: Promise.resolve(), stop: this.listeners.add(topic, listener) };
  }

  claim(name: string, value: string, onLost: () => void): Promise<Claim> {
    const holding: Holding = { value, onLost };
    const previous = this.holdings.get(name);
    this.holdings.set(name, holding);
    if (previous) {
      previous.onLost();
      this.gone(name);
    }
    return Promise.resolve({
      release: () => {
        if (this.holdings.get(name) !== holding) return;
        this.holdings.delete(name);
        this.gone(name);
      },
    });
  }

  holder(name: string): Promise<string | null> {
    return Promise.resolve(this.holdings.get(name)?.value ?? null);
  }

  watch(name: string, onGone: () => void): () => void {
    if (!this.holdings.has(name)) return () => {};
    let set = this.watchers.get(name);
    if (!set) this.watchers.set(name, (set = new Set()));
    // A wrapper per call, so the same function watched twice is two watches.
    const once = () => onGone();
    set.add(once);
    return () => {
      set.delete(once);
      if (set.size === 0 && this.watchers.get(name) === set) this.watchers.delete(name);
    };
  }

  /** One process has no node to die apart from it: a farewell is never needed. */
  join(group: string, member: string, _farewell?: Farewell): Promise<string[]> {
    let members = this.groups.get(group);
    if (!members) this.groups.set(group, (members = new Set()));
    const others = [...members].filter((m) => m !== member);
    members.add(member);
    return Promise.resolve(others);
  }

  enter(ws: ServerWebSocket<unknown>, entry: Entry): Promise<string[] | null> {
    let members = this.groups.get(entry.group);
    const others = members ? [...members].filter((m) => m !== entry.member) : [];
    if (others.length > entry.limit) return Promise.resolve(null);
    if (!members) this.groups.set(entry.group, (members = new Set()));
    // All synchronous: no other socket's presence can fall between these steps.
    ws.send(entry.list(others));
    members.add(entry.member);
    ws.subscribe(entry.topic);
    ws.publish(entry.topic, entry.announce);
    return Promise.resolve(others);
  }

  leave(group: string, member: string): void {
    const members = this.groups.get(group);
    if (!members?.delete(member)) return;
    if (members.size === 0) this.groups.delete(group);
  }

  locate(name: string): Promise<Location> {
    return Promise.resolve(this.holdings.has(name) ? { at: "here" } : { at: "nowhere" });
  }

  /** One process has no other node to take requests from. */
  admitsNode(): boolean {
    return false;
  }

  status(): HubStatus | null {
    return null;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private gone(name: string): void {
    const set = this.watchers.get(name);
    if (!set) return;
    this.watchers.delete(name);
    for (const onGone of set) onGone();
  }
}
