import type { Config } from "../config.ts";
import { podTopic, type Hub } from "../cluster/hub.ts";
import type { PodBindings } from "../registry/bindings.ts";
import { verifyOwnerToken } from "../identity/owner-token.ts";
import type { Logger } from "../log/logger.ts";
import type { ClientMessageOf } from "./protocol.ts";
import { send, type SignalSocket } from "./signal-socket.ts";

/** open: anyone may register any pod (the reference). claimed: bound pods need proof. required: every register does. */
export type OriginAuth = Config["originAuth"];

export interface OriginRegistrationOptions {
  hub: Hub;
  originAuth: OriginAuth;
  bindings: PodBindings;
  onOriginRegistered?: (podId: string) => void;
  onOriginDisconnected?: (podId: string) => void;
}

/** The claim value of an origin that proved its owner key: no unproven origin may take its place. */
const PROVEN = "proven";

/**
 * How a socket becomes a pod's origin (a register, checked against the pod's owner binding
 * and the auth mode, then a claim on the pod id across every node) and which socket is
 * each pod's origin on this node.
 */
export class OriginRegistration {
  private readonly origins = new Map<string, SignalSocket>();

  constructor(
    private readonly options: OriginRegistrationOptions,
    private readonly log: Logger,
  ) {}

  podIds(): string[] {
    return [...this.origins.keys()];
  }

  count(): number {
    return this.origins.size;
  }

  /** The pod's origin if it is on this node. */
  originOf(podId: string): SignalSocket | undefined {
    return this.origins.get(podId);
  }

  register(ws: SignalSocket, m: ClientMessageOf<"register">): void {
    if (ws.data.role !== "none") return send(ws, { t: "error", message: "already initialized" });
    ws.data.role = "registering";
    const registering = this.options.originAuth === "open" && m.ownerToken === undefined ? this.becomeOrigin(ws, m.podId, false) : this.registerWithProof(ws, m);
    void registering.catch((error) => {
      this.log.error("register failed", { podId: m.podId, error: (error as Error).message });
      // The store or the cluster is away: not a refusal, a "try again later".
      this.refuse(ws, "register failed: try again later", 1013);
    });
  }

  /** Any socket that closes gives up its claim; an origin is forgotten here. */
  socketClosed(ws: SignalSocket): void {
    const data = ws.data;
    // Releasing tells the pod's watchers, wherever they are, that its visitors' sessions are over.
    data.claim?.release();
    if (data.role !== "origin" || data.podId === undefined || this.origins.get(data.podId) !== ws) return;
    this.options.hub.unsubscribe(ws, podTopic(data.podId));
    this.origins.delete(data.podId);
    this.options.onOriginDisconnected?.(data.podId);
  }

  closeAll(): void {
    for (const ws of this.origins.values()) ws.close(1001, "server shutting down");
  }

  /** Checks an ownerToken (Ed25519 over this socket's nonce) against the pod's binding and mode. */
  private async registerWithProof(ws: SignalSocket, m: ClientMessageOf<"register">): Promise<void> {
    const { originAuth, bindings } = this.options;
    const proven = m.ownerToken === undefined ? null : await verifyOwnerToken(m.ownerToken, m.podId, ws.data.nonce);
    if (ws.readyState !== 1) return;
    if (m.ownerToken !== undefined && proven === null) return this.refuse(ws, "ownerToken does not prove an owner key for this pod and challenge");
    const owner = await bindings.owner(m.podId);
    if (ws.readyState !== 1) return;
    if (proven === null) {
      if (originAuth === "required") return this.refuse(ws, "this broker requires an ownerToken proof to register");
      if (owner !== null) return this.refuse(ws, `pod ${m.podId} is claimed by an owner key: register with an ownerToken proof`);
      // Unclaimed: anyone may register, but never in place of a proven origin.
      if ((await this.options.hub.holder(podTopic(m.podId))) === PROVEN) return this.refuse(ws, "a proven origin holds this pod");
      return this.becomeOrigin(ws, m.podId, false);
    }
    // Claiming is atomic in the store: of two owners racing for one pod id, one wins.
    const bound = owner ?? (await bindings.bind(m.podId, proven));
    if (ws.readyState !== 1) return;
    if (bound !== proven) return this.refuse(ws, `pod ${m.podId} belongs to another owner key`);
    return this.becomeOrigin(ws, m.podId, true);
  }

  private refuse(ws: SignalSocket, message: string, code = 4003): void {
    ws.data.role = "none";
    send(ws, { t: "error", message });
    ws.close(code, code === 4003 ? "origin not authorized" : message);
  }

  /** Takes the pod id on every node; an older origin of it, wherever it is, is replaced. */
  private async becomeOrigin(ws: SignalSocket, podId: string, proven: boolean): Promise<void> {
    const { hub } = this.options;
    const topic = podTopic(podId);
    // Subscribed first: once the claim stands, so does the subscription on every node ("registered" means reachable).
    hub.subscribe(ws, topic);
    const claim = await hub.claim(topic, proven ? PROVEN : "open", () => this.replaced(ws, podId)).catch((error) => {
      hub.unsubscribe(ws, topic);
      throw error;
    });
    if (ws.readyState !== 1) {
      hub.unsubscribe(ws, topic);
      return claim.release();
    }
    ws.data.role = "origin";
    ws.data.podId = podId;
    ws.data.claim = claim;
    if (proven) ws.data.proven = true;
    this.origins.set(podId, ws);
    send(ws, { t: "registered", podId });
    this.options.onOriginRegistered?.(podId);
  }

  /** Offers in flight went to the old origin: their visitors hear "origin offline" through their watch and retry. */
  private replaced(ws: SignalSocket, podId: string): void {
    this.options.hub.unsubscribe(ws, podTopic(podId));
    if (this.origins.get(podId) === ws) this.origins.delete(podId);
    ws.close(4001, "replaced by new origin");
  }
}
