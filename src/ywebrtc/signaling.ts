import type { ServerWebSocket } from "bun";
import type { Hub } from "../cluster/hub.ts";
import type { SocketHandlers } from "../http/websockets.ts";
import { textOverLimit } from "../limits/frame-size.ts";
import { throttledErrors, type Logger } from "../log/logger.ts";
import type { YRefusal, YWebrtcMetrics } from "./metrics.ts";
import { errorText, parseYMessage, PONG, withClients } from "./protocol.ts";
import type { YSocketData } from "./socket-data.ts";
import { TopicCounts } from "./topic-counts.ts";
import { deliveryTopic } from "./topics.ts";

export type YSocket = ServerWebSocket<YSocketData>;

export interface YSignalingOptions {
  hub: Hub;
  /** Frames over this many bytes are answered with an error (twice that closes the socket, as Bun would). */
  maxFrameBytes: number;
  maxTopicsPerSocket: number;
  maxSubscribersPerTopic: number;
  metrics: (topics: () => number) => YWebrtcMetrics;
  log: Logger;
}

/**
 * Frames held while a subscribe takes effect, beyond one per topic a socket may have: the
 * client sends an announce per room right after subscribing, and not much more.
 */
const QUEUED_FRAMES_SLACK = 64;

/**
 * WS /y-webrtc: sockets subscribe to topics (rooms) and publish to the topics they
 * subscribed to; every subscriber, on every node, gets each publish with the
 * topic's subscriber count. A subscribe is in effect on every node before the
 * socket's next frame is handled, so no answer to a newcomer's announce can miss it.
 */
export class YSignaling {
  private readonly counts: TopicCounts;
  private readonly metrics: YWebrtcMetrics;
  private readonly present = new Set<YSocket>();
  private readonly logError: ReturnType<typeof throttledErrors>;

  constructor(private readonly options: YSignalingOptions) {
    this.logError = throttledErrors(options.log);
    this.counts = new TopicCounts(options.hub, (error, topic) => this.logError("y-webrtc: counting a topic's subscribers failed", error, { topic: topic.slice(0, 100) }));
    this.metrics = options.metrics(() => this.counts.size());
  }

  handlers(): SocketHandlers<YSocketData> {
    return {
      open: (ws) => void this.present.add(ws),
      message: (ws, frame) => this.onFrame(ws, frame),
      close: (ws) => this.onClose(ws),
    };
  }

  /** A refusal outside a socket (the upgrade's token check). */
  refused(reason: YRefusal): void {
    this.metrics.refusals[reason].inc();
  }

  closeAll(): void {
    for (const ws of this.present) ws.close(1001, "server shutting down");
  }

  private onFrame(ws: YSocket, frame: string | Buffer): void {
    const data = ws.data;
    if (data.queue === null) return this.handle(ws, frame);
    data.queuedBytes += frame.length;
    if (data.queue.length >= this.options.maxTopicsPerSocket + QUEUED_FRAMES_SLACK || data.queuedBytes > this.options.maxFrameBytes * 4) return this.refuse(ws, "queue", "too many frames while subscribing", true);
    data.queue.push(frame);
  }

  private handle(ws: YSocket, frame: string | Buffer): void {
    const data = ws.data;
    if (!data.budget.take() && !data.budget.refill(this.peersOf(ws))) return this.refuse(ws, "rate", `rate limit exceeded (${Math.round(data.budget.rate(this.peersOf(ws)))} messages/s for the rooms this socket is in)`, true);
    if (typeof frame !== "string") return this.refuse(ws, "binary", "binary frames are not supported; send JSON text");
    const limit = this.options.maxFrameBytes;
    if (textOverLimit(frame, limit)) return this.refuse(ws, "too_large", `message too large (limit ${limit} bytes)`);
    const m = parseYMessage(frame, this.options.maxTopicsPerSocket);
    if (typeof m === "string") return this.refuse(ws, "invalid", m);
    switch (m.type) {
      case "publish":
        return this.publish(ws, m.topic, frame);
      case "subscribe":
        return this.subscribe(ws, m.topics);
      case "unsubscribe":
        for (const topic of m.topics) this.leave(ws, topic);
        return;
      case "ping":
        return void ws.send(PONG);
    }
  }

  private publish(ws: YSocket, topic: string, frame: string): void {
    // Only a subscriber may publish: a stranger's frame is never fanned out to a room.
    const here = ws.data.topics.has(topic) ? this.counts.get(topic) : undefined;
    if (!here) return this.refuse(ws, "not_subscribed", "subscribe to a topic before publishing to it");
    const clients = here.local + here.othersTotal;
    const text = withClients(frame, clients);
    this.options.hub.publish(here.hubTopic, text);
    this.metrics.publishes.inc();
    this.metrics.fanoutMessages.inc(clients);
    // Its length, not its UTF-8 bytes: counting those would cost a publish more than all the rest (the same for ASCII, as y-webrtc's signals are).
    this.metrics.fanoutBytes.inc(clients * text.length);
  }

  private subscribe(ws: YSocket, topics: string[]): void {
    const { hub, maxTopicsPerSocket, maxSubscribersPerTopic } = this.options;
    const data = ws.data;
    const entered: string[] = [];
    const settled: Promise<void>[] = [];
    for (const topic of topics) {
      if (data.topics.has(topic)) continue;
      if (data.topics.size >= maxTopicsPerSocket) {
        this.refuse(ws, "topics_per_socket", `too many topics for one socket (limit ${maxTopicsPerSocket})`);
        break;
      }
      if (this.counts.total(topic) >= maxSubscribersPerTopic) {
        this.full(ws, topic);
        continue;
      }
      data.topics.add(topic);
      hub.subscribe(ws, deliveryTopic(topic));
      entered.push(topic);
      settled.push(this.counts.added(topic));
    }
    if (settled.length === 0) return;
    // The hub keeps order: once the counts' round trip is done, the subscriptions are in effect on every node.
    data.queue = [];
    void Promise.all(settled).then(() => {
      if (data.closed) return;
      // Only now are the other nodes' subscribers counted: a topic found full after all is left again.
      for (const topic of entered) if (data.topics.has(topic) && this.counts.total(topic) > maxSubscribersPerTopic) this.full(ws, topic);
      const peers = this.peersOf(ws);
      for (const topic of entered) if (data.topics.has(topic)) data.budget.joined(topic, this.counts.total(topic) - 1, peers);
      this.resume(ws);
    });
  }

  /** Handles the frames held while subscribing, in order, until one of them is a subscribe that holds the rest again. */
  private resume(ws: YSocket): void {
    const data = ws.data;
    const held = data.queue ?? [];
    data.queue = null;
    data.queuedBytes = 0;
    for (let i = 0; i < held.length && !data.closed; i++) {
      this.handle(ws, held[i]!);
      const holding = data.queue as YSocketData["queue"]; // handle() may have set it
      if (holding !== null) return void holding.push(...held.slice(i + 1));
    }
  }

  private full(ws: YSocket, topic: string): void {
    this.leave(ws, topic);
    this.refuse(ws, "subscribers_per_topic", `topic is full (limit ${this.options.maxSubscribersPerTopic} subscribers)`);
  }

  private leave(ws: YSocket, topic: string): void {
    if (!ws.data.topics.delete(topic)) return;
    this.options.hub.unsubscribe(ws, deliveryTopic(topic));
    this.counts.removed(topic);
  }

  private onClose(ws: YSocket): void {
    const data = ws.data;
    data.closed = true;
    data.queue = null;
    this.present.delete(ws);
    for (const topic of [...data.topics]) this.leave(ws, topic);
  }

  /** Other peers in the socket's rooms, on every node. */
  private peersOf(ws: YSocket): number {
    let peers = 0;
    for (const topic of ws.data.topics) peers += Math.max(0, this.counts.total(topic) - 1);
    return peers;
  }

  private refuse(ws: YSocket, reason: YRefusal, message: string, close = false): void {
    this.metrics.refusals[reason].inc();
    if (ws.readyState !== 1) return;
    ws.send(errorText(message));
    if (close) ws.close(1008, reason === "rate" ? "rate limit exceeded" : "policy violation");
  }
}
