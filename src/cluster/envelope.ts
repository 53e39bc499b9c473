import type { Payload } from "./hub.ts";

// What travels on a node's channel (`gp:n:<node>`). The first character says what follows:
//   d<topic length>:<topic><text>                     text for this node's subscribers of topic
//   n<topic length>:<topic><note length>:<note><text> the same, with a note for the hub's listeners
//   b<topic length>:<topic><base64>                   binary data (Bun delivers channel messages as text)
//   l<epoch>:<name>                                   the claim on name made at epoch was taken over
//   g<epoch>:<name>                                   the holder of name at epoch is gone (watchers fire)
//   y<node length>:<node><group>                      node announced itself again after a gap: resync the group
//   m<length>:<d|n|b message>…                         several data messages, in order (one PUBLISH per batch)
// Lengths count UTF-16 units: both ends are JavaScript. The Lua scripts write only `l` and `g`,
// which put the one free-form field last so that no length is needed.

export type Envelope =
  | { kind: "data"; topic: string; data: Payload; note?: string }
  | { kind: "lost"; epoch: number; name: string }
  | { kind: "gone"; epoch: number; name: string }
  | { kind: "resync"; node: string; group: string };

/** One data message, framed for a batch (see ROUTE_BATCH). */
export function framedData(topic: string, data: Payload, note?: string): string {
  const message = encodeData(topic, data, note);
  return `${message.length}:${message}`;
}

function encodeData(topic: string, data: Payload, note?: string): string {
  const head = `${topic.length}:${topic}`;
  if (typeof data !== "string") return `b${head}${Buffer.from(data).toString("base64")}`;
  return note === undefined ? `d${head}${data}` : `n${head}${note.length}:${note}${data}`;
}

/** `node`'s resync request for `group`, framed for a batch: routed like data, to the nodes listening on the group's topic. */
export function framedResync(node: string, group: string): string {
  const message = `y${node.length}:${node}${group}`;
  return `${message.length}:${message}`;
}

/** The messages in one channel message; those this version does not understand are left out. */
export function decodeAll(message: string): Envelope[] {
  if (message[0] !== "m") {
    const one = decode(message);
    return one ? [one] : [];
  }
  const out: Envelope[] = [];
  for (let at = 1; at < message.length; ) {
    const framed = field(message, at);
    if (!framed) break;
    const one = decode(framed.value);
    if (one) out.push(one);
    at = framed.end;
  }
  return out;
}

function decode(message: string): Envelope | null {
  const kind = message[0];
  if (kind === "l" || kind === "g") {
    const colon = message.indexOf(":");
    const epoch = Number(message.slice(1, colon));
    if (colon === -1 || !Number.isSafeInteger(epoch)) return null;
    const name = message.slice(colon + 1);
    return kind === "l" ? { kind: "lost", epoch, name } : { kind: "gone", epoch, name };
  }
  if (kind === "y") {
    const node = field(message, 1);
    return node && { kind: "resync", node: node.value, group: message.slice(node.end) };
  }
  if (kind !== "d" && kind !== "n" && kind !== "b") return null;
  const topic = field(message, 1);
  if (!topic) return null;
  if (kind === "b") return { kind: "data", topic: topic.value, data: Buffer.from(message.slice(topic.end), "base64") };
  if (kind === "d") return { kind: "data", topic: topic.value, data: message.slice(topic.end) };
  const note = field(message, topic.end);
  return note && { kind: "data", topic: topic.value, note: note.value, data: message.slice(note.end) };
}

/** `<length>:<value>` at `at`. */
function field(message: string, at: number): { value: string; end: number } | null {
  const colon = message.indexOf(":", at);
  const length = Number(message.slice(at, colon));
  if (colon === -1 || colon === at || !Number.isSafeInteger(length) || colon + 1 + length > message.length) return null;
  return { value: message.slice(colon + 1, colon + 1 + length), end: colon + 1 + length };
}
