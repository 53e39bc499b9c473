import type { ServerWebSocket } from "bun";
import type { Hub } from "../cluster/hub.ts";
import type { SocketHandlers } from "../http/websockets.ts";
import { textMatches } from "../http/admin-token.ts";
import { textOverLimit } from "../limits/frame-size.ts";
import { throttledErrors, type Logger } from "../log/logger.ts";
import type { Delivery } from "./delivery.ts";
import type { PeerjsMetrics, Refusal } from "./metrics.ts";
import type { PeerjsNames } from "./names.ts";
import { ADMISSION_ERRORS, errorText, forwardedText, ID_TAKEN_TEXT, INVALID_ID, OPEN_TEXT, parseClientMessage, validId } from "./protocol.ts";
import type { PeerjsSocketData } from "./socket-data.ts";

export type PeerjsSocket = ServerWebSocket<PeerjsSocketData>;

export interface PeerjsSocketsOptions {
  hub: Hub;
  names: PeerjsNames;
  key: string;
  maxPeers: number;
  maxMessageBytes: number;
  aliveTimeoutMs: number;
  delivery: Delivery;
  metrics: PeerjsMetrics;
  log: Logger;
}

/** Frames a client may send before its OPEN (it may not wait for it); more is not a client. */
const MAX_EARLY_FRAMES = 32;

/**
 * PeerJS sockets of this node: admission in the reference's order, then one id
 * held across the cluster (a claim on the hub) for as long as the socket lives
 * and sends HEARTBEATs, and messages passed on to other ids through `Delivery`.
 */
export class PeerjsSockets {
  /** Open sockets on this node, by id. */
  private readonly byId = new Map<string, PeerjsSocket>();
  private readonly sweeper: Timer;
  private readonly logError: ReturnType<typeof throttledErrors>;

  constructor(private readonly o: PeerjsSocketsOptions) {
    this.logError = throttledErrors(o.log);
    this.sweeper = setInterval(() => this.sweep(), Math.min(5_000, Math.max(50, o.aliveTimeoutMs / 4)));
    this.sweeper.unref();
  }

  handlers(): SocketHandlers<PeerjsSocketData> {
    return {
      open: (ws) => void this.admit(ws).catch((error) => this.failed(ws, error)),
      message: (ws, frame) => this.onFrame(ws, frame),
      close: (ws) => {
        if (ws.data.stage === "open") this.leave(ws);
        // An admitting socket is cleaned up by admit() at its next step.
        ws.data.stage = "closed";
      },
    };
  }

  /** Ids held on this node. */
  ids(): string[] {
    return [...this.byId.keys()];
  }

  count(): number {
    return this.byId.size;
  }

  /** `sender`'s messages for `dst` found nobody: its budget no longer counts `dst` as a partner. */
  notThere(sender: string, dst: string): void {
    this.byId.get(sender)?.data.budget.notThere(dst);
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const ws of this.byId.values()) ws.close(1001, "server shutting down");
  }

  private async admit(ws: PeerjsSocket): Promise<void> {
    const { hub, names } = this.o;
    const d = ws.data;
    if (!d.id || !d.digest || !d.key) return this.refuse(ws, errorText(ADMISSION_ERRORS.missingParameters), "missing-parameters");
    if (d.key !== this.o.key) return this.refuse(ws, errorText(ADMISSION_ERRORS.invalidKey), "invalid-key");
    if (!validId(d.id)) return this.refuse(ws, errorText(INVALID_ID), "invalid-id");
    const name = names.id(d.id);
    const holder = await hub.holder(name);
    if (isClosed(d)) return;
    // The same token: the client came back (a new socket, the old one stale). The reference
    // swaps sockets but never says OPEN, so the client never opens (peerjs#1289); we do.
    const reattach = holder !== null && textMatches(holder, d.digest);
    if (holder !== null && !reattach) return this.refuse(ws, ID_TAKEN_TEXT, "id-taken");
    if (!reattach && this.byId.size >= this.o.maxPeers) return this.refuse(ws, errorText(ADMISSION_ERRORS.peerLimit), "peer-limit");
    const claim = await hub.claim(name, d.digest, () => this.lost(ws));
    // Closed meanwhile: given back (a no-op if another socket took it since).
    if (isClosed(d)) return claim.release();
    d.claim = claim;
    hub.subscribe(ws, name);
    // OPEN tells the client (and so its peers) that the id takes messages: only once the
    // subscription is in effect on every node, which a hub call made after it proves (the
    // hub keeps order). Else a peer told at once could find nobody there: its message waited
    // for the id's arrival, and the chaos soak saw it lost about once in a thousand.
    await hub.holder(name).catch(() => null);
    if (isClosed(d)) {
      // Closed (its claim is still ours to give back) or its id lost (lost() took the claim).
      hub.unsubscribe(ws, name);
      d.claim?.release();
      d.claim = undefined;
      return;
    }
    this.byId.set(d.id, ws);
    d.stage = "open";
    d.aliveAt = Date.now();
    ws.send(OPEN_TEXT);
    if (reattach) this.o.metrics.reattached.inc();
    // Messages waiting for this id on any node come here now.
    hub.publish(names.arrival(d.id), "");
    for (const frame of d.early.splice(0)) if (d.stage === "open") this.handle(ws, frame);
  }

  /**
   * Another socket took this one's id. With the same token it is the client itself come back,
   * and this socket is stale; with another, two sockets took a free id at once and the last
   * won: this one is told the id is taken, as if it had come second.
   */
  private lost(ws: PeerjsSocket): void {
    const d = ws.data;
    const name = this.o.names.id(d.id);
    d.claim = undefined;
    if (d.stage === "open") {
      this.o.hub.unsubscribe(ws, name);
      if (this.byId.get(d.id) === ws) this.byId.delete(d.id);
    }
    d.stage = "closed";
    void this.o.hub.holder(name).then(
      (now) => {
        if (ws.readyState !== 1) return;
        if (now !== null && !textMatches(now, d.digest)) ws.send(ID_TAKEN_TEXT);
        ws.close(4001, "replaced");
      },
      () => ws.close(4001, "replaced"),
    );
  }

  /** The socket gives its id up: closed, timed out, or a LEAVE without a destination. */
  private leave(ws: PeerjsSocket): void {
    const d = ws.data;
    d.stage = "closed";
    if (this.byId.get(d.id) === ws) this.byId.delete(d.id);
    this.o.hub.unsubscribe(ws, this.o.names.id(d.id));
    d.claim?.release();
    d.claim = undefined;
  }

  private onFrame(ws: PeerjsSocket, frame: string | Buffer): void {
    const d = ws.data;
    if (d.stage === "closed") return;
    if (!d.budget.take()) {
      this.o.metrics.refused["rate-limit"].inc();
      ws.send(errorText(`rate limit exceeded (${Math.round(d.budget.rate())} messages/s for what this socket is doing)`));
      return ws.close(1008, "rate limit exceeded");
    }
    if (typeof frame !== "string") return this.bad(ws, "binary frames are not supported; send JSON text");
    const limit = this.o.maxMessageBytes;
    if (textOverLimit(frame, limit)) return this.bad(ws, `message too large (limit ${limit} bytes)`);
    if (d.stage === "open") return this.handle(ws, frame);
    if (d.early.length >= MAX_EARLY_FRAMES) return this.refuse(ws, errorText(`too many messages before OPEN (limit ${MAX_EARLY_FRAMES})`), "bad-message");
    d.early.push(frame);
  }

  private handle(ws: PeerjsSocket, frame: string): void {
    const parsed = parseClientMessage(frame);
    if (!parsed.ok) return this.bad(ws, parsed.error);
    const m = parsed.message;
    const d = ws.data;
    switch (m.type) {
      case "unknown":
        return; // as the reference: a newer client's message is no error
      case "HEARTBEAT":
        this.o.metrics.messages.HEARTBEAT.inc();
        d.aliveAt = Date.now();
        return;
    }
    this.o.metrics.messages[m.type].inc();
    if (m.dst === undefined) {
      this.leave(ws);
      return ws.close(1000, "left");
    }
    if (m.type === "OFFER" || m.type === "ANSWER") d.budget.negotiating(m.dst);
    else if (m.type === "LEAVE") d.budget.ended(m.dst);
    this.o.delivery.send(d.id, m.dst, m.type, forwardedText(m.type, d.id, m.dst, m.payload));
  }

  /** A message no client sends: said in the protocol's own form; the socket stays. */
  private bad(ws: PeerjsSocket, msg: string): void {
    this.o.metrics.refused["bad-message"].inc();
    ws.send(errorText(msg));
  }

  private refuse(ws: PeerjsSocket, text: string, reason: Refusal): void {
    this.o.metrics.refused[reason].inc();
    ws.data.stage = "closed";
    if (ws.readyState !== 1) return;
    ws.send(text);
    ws.close(1008, "refused");
  }

  private failed(ws: PeerjsSocket, error: unknown): void {
    this.logError("taking a PeerJS id failed", error);
    this.refuse(ws, errorText("the server could not take this id now; try again"), "cluster");
  }

  /** Sockets silent past the alive timeout are dropped and their ids freed, as the reference does. */
  private sweep(): void {
    const cutoff = Date.now() - this.o.aliveTimeoutMs;
    for (const ws of this.byId.values()) {
      if (ws.data.aliveAt > cutoff) continue;
      this.o.metrics.timedOut.inc();
      this.leave(ws);
      ws.close(4000, "no heartbeat");
    }
  }
}

/** Closed while an await was pending (a function: TypeScript keeps narrowings across awaits). */
function isClosed(d: PeerjsSocketData): boolean {
  return d.stage === "closed";
}
