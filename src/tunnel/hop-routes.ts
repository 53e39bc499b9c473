import type { Hub } from "../cluster/hub.ts";
import { tunnelClaim, type TunnelEndpoint } from "./directory.ts";
import { NodeHop } from "./node-hop.ts";

/** Routes to tunnels on other nodes kept at once; the oldest is dropped past this. */
const MAX_ROUTES = 4096;
/** Past the tunnel's own head timeout (which the other node answers with a 504), a node that said nothing is not answering. */
const HOP_MARGIN_MS = 5000;

interface Route {
  hop: NodeHop;
  unwatch: () => void;
}

/**
 * For `LocalTunnelDirectory`: which node holds a tunnel this node does not, remembered until
 * its holder changes. The watch is set before the lookup, so a takeover that the lookup
 * does not see yet still ends the route (the hub reports it gone); a node that does not
 * answer, or answers that the client is not there, ends it too.
 */
export class HopRoutes {
  private readonly routes = new Map<string, Route>();

  constructor(
    private readonly hub: Hub,
    /** The tunnel's head timeout, which bounds a hop too. */
    private readonly headTimeoutMs: number,
  ) {}

  readonly find = async (name: string): Promise<TunnelEndpoint | null> => {
    const known = this.routes.get(name);
    if (known) return known.hop;
    const claim = tunnelClaim(name);
    let route: Route | undefined;
    let ended = false;
    const unwatch = this.hub.watch(claim, () => {
      ended = true;
      if (route) this.forget(name, route);
    });
    const location = await this.hub.locate(claim).catch((error: unknown) => {
      unwatch();
      throw error;
    });
    if (location.at !== "node") {
      unwatch();
      return null;
    }
    const stale = () => route && this.forget(name, route);
    const hop = new NodeHop({ base: location.url, credential: location.credential, name, timeoutMs: this.headTimeoutMs + HOP_MARGIN_MS, stale });
    // Its holder changed during the lookup, or another lookup got there first: used once, not kept.
    if (ended || this.routes.has(name)) {
      unwatch();
      return hop;
    }
    route = { hop, unwatch };
    this.routes.set(name, route);
    if (this.routes.size > MAX_ROUTES) {
      const [oldest, old] = this.routes.entries().next().value!;
      this.forget(oldest, old);
    }
    return hop;
  };

  private forget(name: string, route: Route): void {
    if (this.routes.get(name) !== route) return;
    this.routes.delete(name);
    route.unwatch();
  }
}
