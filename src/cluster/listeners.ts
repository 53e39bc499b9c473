import type { Payload } from "./hub.ts";

/** In-process listeners by topic, for `Hub.listen`. */
export class Listeners {
  private readonly byTopic = new Map<string, Set<(data: Payload) => void>>();
  /** What listeners want done after a gap in the cluster (see `Hub.listen`). */
  private readonly afterGaps = new Set<() => void>();

  /**
   * Adds a listener; the returned function removes it. `onEmpty` runs when the topic's last one goes;
   * `afterGap` on each `gap()` while it listens.
   */
  add(topic: string, listener: (data: Payload) => void, onEmpty?: () => void, afterGap?: () => void): () => void {
    let set = this.byTopic.get(topic);
    if (!set) this.byTopic.set(topic, (set = new Set()));
    const listening = set;
    // A wrapper per call, so the same function added twice is two listeners.
    const entry = (data: Payload) => listener(data);
    listening.add(entry);
    const again = afterGap && (() => afterGap());
    if (again) this.afterGaps.add(again);
    return () => {
      if (again) this.afterGaps.delete(again);
      if (!listening.delete(entry) || listening.size > 0) return;
      if (this.byTopic.get(topic) === listening) this.byTopic.delete(topic);
      onEmpty?.();
    };
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  /** A gap in the cluster is over: publishes meanwhile may have been lost. */
  gap(): void {
    for (const again of [...this.afterGaps]) again();
  }

  hear(topic: string, data: Payload): void {
    if (this.byTopic.size === 0) return;
    const set = this.byTopic.get(topic);
    if (set) for (const listener of [...set]) listener(data);
  }
}
