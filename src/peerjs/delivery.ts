// Delivery of PeerJS messages to an id wherever it is connected, and the wait
// for an id that is not: messages for it are held on the sender's node, and go
// to it when it connects on any node (its node publishes its arrival) before
// they expire; else each sender hears EXPIRE once.
import type { Hub, Listening } from "../cluster/hub.ts";
import { expireText, type ForwardedType } from "./protocol.ts";
import type { PeerjsNames } from "./names.ts";

export interface DeliveryLimits {
  expireMs: number;
  /** Messages held for one id on this node. */
  perIdMessages: number;
  /** Bytes held for one id on this node. */
  perIdBytes: number;
  /** Bytes held in all on this node; every message counts OVERHEAD more. */
  totalBytes: number;
}

/** What a held message costs beyond its text: its entry, its part of the maps and timer. */
const OVERHEAD = 256;

interface Held {
  from: string;
  text: string;
}

interface Waiting {
  held: Held[];
  bytes: number;
  timer: Timer;
  listening: Listening;
  /** Senders already told EXPIRE (a full queue): told once per sender. */
  told: Set<string>;
}

export interface DeliveryEvents {
  /** `sender` heard EXPIRE for `dst` (it waited in vain, or there was no room to wait). */
  expired(sender: string, dst: string, reason: "timeout" | "queue-full"): void;
}

export class Delivery {
  private readonly waiting = new Map<string, Waiting>();
  private heldBytes = 0;
  private heldCount = 0;

  constructor(
    private readonly hub: Hub,
    private readonly names: PeerjsNames,
    private readonly limits: DeliveryLimits,
    private readonly events: DeliveryEvents,
  ) {}

  /** Messages waiting for ids on this node. */
  held(): number {
    return this.heldCount;
  }

  send(from: string, dst: string, type: ForwardedType, text: string): void {
    // Behind messages already waiting for dst, so it gets them in the order they were sent.
    if (this.waiting.has(dst)) return this.nobody(from, dst, type, text);
    this.hub.deliver(this.names.id(dst), text, () => this.nobody(from, dst, type, text));
  }

  close(): void {
    for (const [dst] of this.waiting) this.drop(dst);
  }

  /** The reference holds what sets up a connection; LEAVE and EXPIRE for an absent id are dropped. */
  private nobody(from: string, dst: string, type: ForwardedType, text: string): void {
    if (type !== "LEAVE" && type !== "EXPIRE") this.holdFor(dst, from, text, true);
  }

  private holdFor(dst: string, from: string, text: string, recheck: boolean): void {
    const cost = text.length + OVERHEAD;
    const w = this.waiting.get(dst);
    const { perIdMessages, perIdBytes, totalBytes } = this.limits;
    // No room: no wait is set up either (a flood to many absent ids costs nothing held).
    if (this.heldBytes + cost > totalBytes || (w && (w.held.length >= perIdMessages || w.bytes + cost > perIdBytes))) {
      if (w?.told.has(from)) return;
      w?.told.add(from);
      return this.tellExpired(from, dst, "queue-full");
    }
    const into = w ?? this.wait(dst, recheck);
    into.held.push({ from, text });
    into.bytes += cost;
    this.heldBytes += cost;
    this.heldCount++;
  }

  private wait(dst: string, recheck: boolean): Waiting {
    // An arrival published in a gap of the cluster may be lost: the claim shows it.
    const listening = this.hub.listen(this.names.arrival(dst), () => this.arrived(dst), () => this.recheck(dst, w));
    const w: Waiting = { held: [], bytes: 0, told: new Set(), listening, timer: setTimeout(() => this.expire(dst), this.limits.expireMs) };
    this.waiting.set(dst, w);
    // An arrival published before the listener stood is not heard: the claim shows it.
    // (Not after a failed flush: that claim's arrival is still to come, and heard.)
    if (recheck) void listening.ready.then(() => this.recheck(dst, w));
    return w;
  }

  /** dst arrived if someone holds it now (and `w` still waits for it). */
  private recheck(dst: string, w: Waiting): void {
    void this.hub
      .holder(this.names.id(dst))
      .then((holder) => holder !== null && this.waiting.get(dst) === w && this.arrived(dst))
      .catch(() => {}); // the cluster store is away: the wait goes on, the timer ends it
  }

  /** dst is connected somewhere: what waited for it goes there, in order. */
  private arrived(dst: string): void {
    const w = this.waiting.get(dst);
    if (!w) return;
    this.drop(dst);
    const topic = this.names.id(dst);
    for (const m of w.held) {
      // Gone again already: back to waiting, for the arrival still to come.
      this.hub.deliver(topic, m.text, () => this.holdFor(dst, m.from, m.text, false));
    }
  }

  private expire(dst: string): void {
    const w = this.waiting.get(dst);
    if (!w) return;
    this.drop(dst);
    const senders = new Set(w.held.map((m) => m.from));
    for (const sender of senders) if (!w.told.has(sender)) this.tellExpired(sender, dst, "timeout");
  }

  private drop(dst: string): void {
    const w = this.waiting.get(dst)!;
    this.waiting.delete(dst);
    clearTimeout(w.timer);
    w.listening.stop();
    this.heldBytes -= w.bytes;
    this.heldCount -= w.held.length;
  }

  private tellExpired(sender: string, dst: string, reason: "timeout" | "queue-full"): void {
    this.hub.deliver(this.names.id(sender), expireText(dst, sender), () => {});
    this.events.expired(sender, dst, reason);
  }
}
