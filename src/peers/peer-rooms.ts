import type { ServerWebSocket } from "bun";
import type { Hub } from "../cluster/hub.ts";
import type { SocketHandlers } from "../http/websockets.ts";
import { AuthGate } from "../identity/socket-auth.ts";
import { throttledErrors, type Logger } from "../log/logger.ts";
import { textOverLimit } from "../limits/frame-size.ts";
import { iceServersFor, type IceServerOptions } from "./ice-servers.ts";
import { parsePeerMessage, type PeerServerMessage, type RelayRequest } from "./protocol.ts";
import { relayedText } from "./relay-text.ts";
import type { PeerSocketData } from "./socket-data.ts";
import { RoomViews } from "./room-views.ts";
import { peerTopic, roomGroup, roomOfGroup, roomsOfKey, roomTopic } from "./topics.ts";

export type PeerSocket = ServerWebSocket<PeerSocketData>;

export interface PeerRoomsOptions {
  hub: Hub;
  maxMessageBytes: number;
  maxPeersPerRoom: number;
  maxRoomsPerKey: number;
  authTimeoutMs: number;
  ice: IceServerOptions;
  log: Logger;
}

/**
 * WS /.webrtc: peers sign in with their key, are told who else is in their room
 * and who comes and goes, and pass offers, answers, candidates and hangups to
 * each other by key. Presence and delivery go through the hub only.
 */
export class PeerRooms {
  private readonly gate: AuthGate<PeerSocketData>;
  /** Sockets in a room on this node, so shutdown can close them. */
  private readonly present = new Set<PeerSocket>();
  /** What the sockets in each room here were told, for a resync after a cluster gap. */
  private readonly views: RoomViews<PeerSocket>;
  private readonly logError: ReturnType<typeof throttledErrors>;

  constructor(private readonly options: PeerRoomsOptions) {
    this.logError = throttledErrors(options.log);
    this.views = new RoomViews(options.hub, roomTopic);
    options.hub.onResync((group, members, settled) => this.resynced(group, members, settled));
    this.gate = new AuthGate<PeerSocketData>({
      timeoutMs: options.authTimeoutMs,
      send: (ws, message) => ws.send(JSON.stringify(message)),
      onAuthenticated: (ws, key) => void this.enter(ws as PeerSocket, key).catch((error) => this.failed(ws as PeerSocket, error)),
    });
  }

  handlers(): SocketHandlers<PeerSocketData> {
    return {
      open: (ws) => this.gate.open(ws),
      message: (ws, frame) => this.onFrame(ws, frame),
      close: (ws) => this.onClose(ws),
    };
  }

  /** Peers in rooms on this node, and the rooms they are in (for the console). */
  counts(): { peers: number; rooms: number } {
    const rooms = new Set<string>();
    for (const ws of this.present) rooms.add(ws.data.room);
    return { peers: this.present.size, rooms: rooms.size };
  }

  closeAll(): void {
    for (const ws of this.present) ws.close(1001, "server shutting down");
  }

  private onFrame(ws: PeerSocket, frame: string | Buffer): void {
    const data = ws.data;
    if (!data.budget.take()) {
      send(ws, { type: "error", message: `rate limit exceeded (${Math.round(data.budget.rate())} messages/s for what this socket is doing)` });
      return ws.close(1008, "rate limit exceeded");
    }
    if (typeof frame !== "string") return send(ws, { type: "error", message: "binary frames are not supported; send JSON text" });
    const limit = this.options.maxMessageBytes;
    if (textOverLimit(frame, limit)) return send(ws, { type: "error", message: `message too large (limit ${limit} bytes)` });
    const parsed = parsePeerMessage(frame);
    if (!parsed.ok) return send(ws, { type: "error", message: parsed.error });
    const m = parsed.message;
    if (this.gate.take(ws, m as { type: string })) return;
    if (data.stage !== "in-room") return send(ws, { type: "error", message: "entering the room: wait for the peers message" });
    switch (m.type) {
      case "ice-servers":
        return send(ws, { type: "ice-servers", iceServers: this.iceServers(ws) });
      case "offer":
      case "answer":
      case "candidate":
      case "hangup":
        return this.relay(ws, m, frame);
    }
  }

  private relay(ws: PeerSocket, m: RelayRequest, frame: string): void {
    const { budget, room, auth } = ws.data;
    if (m.type === "offer" || m.type === "answer") budget.negotiating(m.to);
    else if (m.type === "hangup") budget.ended(m.to);
    this.options.hub.deliver(peerTopic(room, m.to), relayedText(m, auth.publicKey!, frame), () => {
      budget.notThere(m.to);
      if (ws.readyState === 1) send(ws, { type: "error", message: "peer not online", peer: m.to });
    });
  }

  /**
   * Takes this key's place in the room (an older socket of the key, wherever it
   * is, leaves), checks the bounds, then enters: the peers list, then news.
   * The socket holding the claim owns the key's entries in the room and in its
   * rooms count; a replaced one touches neither. Each await may see the socket
   * closed (stage "left") or replaced meanwhile.
   */
  private async enter(ws: PeerSocket, key: string): Promise<void> {
    const { hub, maxPeersPerRoom, maxRoomsPerKey } = this.options;
    const data = ws.data;
    data.stage = "entering";
    const topic = peerTopic(data.room, key);
    const claim = await hub.claim(topic, key, () => this.replaced(ws));
    if (data.replaced) return;
    data.claim = claim;
    if (data.stage !== "entering") return this.vacate(ws);
    const otherRooms = await hub.join(roomsOfKey(key), data.room);
    if (data.replaced) return;
    if (data.stage !== "entering") return this.vacate(ws);
    if (otherRooms.length >= maxRoomsPerKey) {
      this.vacate(ws);
      return this.refuse(ws, `this key is in too many rooms (limit ${maxRoomsPerKey})`);
    }
    data.topic = topic;
    hub.subscribe(ws, topic);
    // In the room from the moment the hub announces it, so a replacement meanwhile announces it gone.
    data.stage = "in-room";
    this.views.entering(ws, data.room);
    const peers = await hub.enter(ws, {
      group: roomGroup(data.room),
      member: key,
      topic: roomTopic(data.room),
      limit: maxPeersPerRoom - 1,
      list: (others) => JSON.stringify({ type: "peers", you: key, peers: others, iceServers: this.iceServers(ws) } satisfies PeerServerMessage),
      announce: presence("peer-joined", key),
      farewell: presence("peer-left", key),
    });
    if (isGone(data)) return;
    if (peers === null) {
      hub.unsubscribe(ws, topic);
      this.vacate(ws);
      return this.refuse(ws, `room ${data.room} is full (limit ${maxPeersPerRoom} peers)`);
    }
    this.present.add(ws);
    this.views.entered(ws, data.room, key, peers);
  }

  /** After a cluster gap: each socket hears who joined or left that it was not told of. */
  private resynced(group: string, members: string[], settled: boolean): void {
    const room = roomOfGroup(group);
    if (room === undefined) return;
    for (const { socket, joined, left } of this.views.resync(room, members, settled)) {
      if (socket.readyState !== 1) continue;
      for (const key of left) socket.send(presence("peer-left", key));
      for (const key of joined) socket.send(presence("peer-joined", key));
    }
  }

  /** Another socket of the same key took this one's place: the room hears it left, the new one enters. */
  private replaced(ws: PeerSocket): void {
    const data = ws.data;
    data.replaced = true;
    data.claim = undefined;
    if (data.stage === "in-room") this.announceLeft(ws);
    data.stage = "left";
    this.present.delete(ws);
    ws.close(4001, "replaced");
  }

  private onClose(ws: PeerSocket): void {
    this.gate.close(ws);
    this.present.delete(ws);
    this.views.gone(ws, ws.data.room);
    const data = ws.data;
    const wasIn = data.stage === "in-room";
    // An entering socket is cleaned up by enter() at its next step.
    data.stage = "left";
    if (!wasIn || data.replaced) return;
    this.announceLeft(ws);
    this.vacate(ws);
  }

  private announceLeft(ws: PeerSocket): void {
    const { hub } = this.options;
    const { room, auth, topic } = ws.data;
    if (topic) hub.unsubscribe(ws, topic);
    hub.unsubscribe(ws, roomTopic(room));
    hub.publish(roomTopic(room), presence("peer-left", auth.publicKey!));
  }

  /** The claim holder gives up the key's place: the claim, its room membership, its rooms count. */
  private vacate(ws: PeerSocket): void {
    const { hub } = this.options;
    const data = ws.data;
    const key = data.auth.publicKey!;
    data.claim?.release();
    data.claim = undefined;
    hub.leave(roomGroup(data.room), key);
    hub.leave(roomsOfKey(key), data.room);
  }

  private refuse(ws: PeerSocket, message: string): void {
    ws.data.stage = "left";
    if (ws.readyState !== 1) return;
    send(ws, { type: "error", message });
    ws.close(1008, "limit reached");
  }

  private failed(ws: PeerSocket, error: unknown): void {
    this.logError("entering a room failed", error, { room: ws.data.room });
    if (ws.data.claim) this.vacate(ws);
    this.refuse(ws, "could not enter the room");
  }

  private iceServers(ws: PeerSocket): ReturnType<typeof iceServersFor> {
    return iceServersFor(this.options.ice, ws.data.auth.publicKey!, ws.data.auth.host);
  }
}

/** Closed or replaced while an await was pending (a function: TypeScript keeps narrowings across awaits). */
function isGone(data: PeerSocketData): boolean {
  return data.replaced === true || data.stage === "left";
}

function presence(type: "peer-joined" | "peer-left", key: string): string {
  return JSON.stringify({ type, peer: key, webId: key } satisfies PeerServerMessage);
}

function send(ws: PeerSocket, message: PeerServerMessage): void {
  ws.send(JSON.stringify(message));
}
