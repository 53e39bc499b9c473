// The y-webrtc signaling wire (y-webrtc 10.x): JSON text frames both ways. The
// server never reads `data` (a simple-peer signal, or AES-GCM text in a room
// with a password); it relays a publish as received with the topic's subscriber
// count added. The client ignores types it does not know, so errors are safe.
import { jsonObject } from "../http/json-frame.ts";

/** Longest topic (room name) kept: a name is a map key on every node that has its room. */
export const MAX_TOPIC_LENGTH = 512;

export type YClientMessage =
  | { type: "subscribe" | "unsubscribe"; topics: string[] }
  | { type: "publish"; topic: string }
  | { type: "ping" };

/**
 * Validates one text frame: the message, or what is wrong with it. Never throws.
 * A publish is the parsed object itself (most frames are publishes: nothing more is made for them).
 */
export function parseYMessage(text: string, maxTopics: number): YClientMessage | string {
  const m = jsonObject(text);
  if (typeof m === "string") return m;
  switch (m.type) {
    case "publish":
      return typeof m.topic === "string" && m.topic !== "" ? (m as YClientMessage) : "publish needs a topic string";
    case "subscribe":
    case "unsubscribe": {
      const topics = m.topics ?? [];
      if (!Array.isArray(topics)) return "topics must be an array of strings";
      if (topics.length > maxTopics) return `too many topics in one message (limit ${maxTopics})`;
      // Like the reference, entries that are not strings are skipped.
      const names = topics.filter((t): t is string => typeof t === "string");
      if (names.some((t) => t.length > MAX_TOPIC_LENGTH)) return `topic names are at most ${MAX_TOPIC_LENGTH} characters`;
      return { type: m.type, topics: names };
    }
    case "ping":
      return { type: "ping" };
    default:
      return "type must be subscribe, unsubscribe, publish or ping";
  }
}

/**
 * The publish as every subscriber receives it: the sender's frame with `clients`
 * added, without re-serialising it. The frame parsed as an object with a topic, so
 * it ends in `}` (after any whitespace) and has a member before it; a `clients` the
 * sender put in is overridden, since JSON.parse keeps a key's last value.
 */
export function withClients(frame: string, clients: number): string {
  let end = frame.length - 1;
  while (frame.charCodeAt(end) !== 125 /* } */) end--;
  return `${frame.slice(0, end)},"clients":${clients}}`;
}

export const PONG = '{"type":"pong"}';

export function errorText(message: string): string {
  return JSON.stringify({ type: "error", message });
}
