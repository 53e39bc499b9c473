import { textMatches } from "../http/admin-token.ts";
import type { RedisLink } from "./redis-link.ts";

/** How another node takes direct requests: its advertised base URL and the credential it expects. */
export interface NodeAddress {
  url: string;
  credential: string;
}

const KEY = "gp:addr";

/**
 * Where each node takes node-to-node HTTP hops (`--cluster-advertise`), kept in one Redis hash.
 * Each node makes up its own credential and publishes it with its address, so nothing needs to be
 * agreed on (a Redis restarted empty just hears the addresses again); a node id never comes back
 * after its process ends, so a cached address is right for as long as the node lives.
 */
export class NodeAddresses {
  private readonly credential = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
  private readonly known = new Map<string, NodeAddress>();

  constructor(
    private readonly link: RedisLink,
    private readonly self: string,
    private readonly advertise: (() => string) | undefined,
  ) {}

  /** Tells the cluster where this node is; again after any gap. */
  async announce(): Promise<void> {
    if (this.advertise) await this.link.call("HSET", [KEY, this.self, `${this.credential} ${this.advertise()}`]);
  }

  /** Where `node` takes hops, or null if it advertises none (or Redis is away). */
  async lookup(node: string): Promise<NodeAddress | null> {
    const cached = this.known.get(node);
    if (cached) return cached;
    const stored = await this.link.call("HGET", [KEY, node]);
    if (typeof stored !== "string") return null;
    const space = stored.indexOf(" ");
    const address = { credential: stored.slice(0, space), url: stored.slice(space + 1) };
    // Bounded by the nodes alive: a dead node's entry is dropped when it dies.
    this.known.set(node, address);
    return address;
  }

  forget(node: string): void {
    this.known.delete(node);
  }

  /** Whether a hop presents this node's own credential. */
  admits(credential: string | null): boolean {
    return credential !== null && textMatches(credential, this.credential);
  }
}
