// The boundary between the visitor-facing HTTP side and whatever serves a tunnel.
// Everything crossing it is a web-standard Request/Response or a plain socket
// callback, so a cluster directory can answer `find` with an endpoint that
// forwards to the node holding the name (e.g. by a node-to-node HTTP hop)
// without the protocol code changing.

export interface VisitorInfo {
  /** The visitor's address. */
  ip: string;
  proto: "http" | "https";
  /** The Host the visitor asked for. */
  host: string;
  /** Path and query as the local server should see them (always starts with "/"). */
  path: string;
  /** The visitor came through `<name>.<tunnel-domain>` (its own origin: no sandbox). */
  subdomain: boolean;
}

/** The visitor's end of a websocket carried through a tunnel. */
export interface VisitorSocketSink {
  send(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
}

/** A websocket the tunnel client accepted; the caller upgrades the visitor, then wires the events. */
export interface TunnelledSocket {
  /** For the 101 response (e.g. the chosen Sec-WebSocket-Protocol). */
  readonly headers: Headers;
  opened(visitor: VisitorSocketSink): void;
  message(data: string | Uint8Array): void;
  closed(code: number, reason: string): void;
}

export interface TunnelEndpoint {
  /** One visitor request to the tunnel client; the response streams back. */
  fetch(request: Request, visitor: VisitorInfo): Promise<Response>;
  /** A websocket upgrade request: the accepted socket, or the response refusing it. */
  openSocket(request: Request, visitor: VisitorInfo): Promise<TunnelledSocket | Response>;
}

export interface TunnelDirectory {
  /** The endpoint serving `name` on this node. */
  local(name: string): TunnelEndpoint | null;
  /** The endpoint serving `name` anywhere: this node's own, or one reaching the node that has it. */
  find(name: string): Promise<TunnelEndpoint | null>;
}

/** The name a tunnel's client holds on the hub while it is connected. */
export const tunnelClaim = (name: string): string => `t:${name}`;

/** Tunnels served by sockets on this node; others are asked of `elsewhere`. */
export class LocalTunnelDirectory implements TunnelDirectory {
  private readonly endpoints = new Map<string, TunnelEndpoint>();

  constructor(private readonly elsewhere: (name: string) => Promise<TunnelEndpoint | null>) {}

  local(name: string): TunnelEndpoint | null {
    return this.endpoints.get(name) ?? null;
  }

  find(name: string): Promise<TunnelEndpoint | null> {
    const here = this.endpoints.get(name);
    return here ? Promise.resolve(here) : this.elsewhere(name);
  }

  set(name: string, endpoint: TunnelEndpoint): void {
    this.endpoints.set(name, endpoint);
  }

  /** Removes `name` only if `endpoint` still serves it (a replacement may have taken it). */
  delete(name: string, endpoint: TunnelEndpoint): void {
    if (this.endpoints.get(name) === endpoint) this.endpoints.delete(name);
  }

  names(): string[] {
    return [...this.endpoints.keys()];
  }
}
