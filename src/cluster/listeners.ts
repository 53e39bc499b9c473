import type { Payload } from "./hub.ts";

/** In-process listeners by topic, for `Hub.listen`. */
export class Listeners {
  private readonly byTopic = new Map<string, Set<(data: Payload) => void>>();

  /** Adds a listener; the returned function removes it. `onEmpty` runs when the topic's last one goes. */
  add(topic: string, listener: (data: Payload) => void, onEmpty?: () => void): () => void {
    let set = this.byTopic.get(topic);
    if (!set) this.byTopic.set(topic, (set = new Set()));
    const listening = set;
    // A wrapper per call, so the same function added twice is two listeners.
    const entry = (data: Payload) => listener(data);
    listening.add(entry);
    return () => {
      if (!listening.delete(entry) || listening.size > 0) return;
      if (this.byTopic.get(topic) === listening) this.byTopic.delete(topic);
      onEmpty?.();
    };
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  hear(topic: string, data: Payload): void {
    if (this.byTopic.size === 0) return;
    const set = this.byTopic.get(topic);
    if (set) for (const listener of [...set]) listener(data);
  }
}
