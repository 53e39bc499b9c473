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
  find(name: string): TunnelEndpoint | null;
}

/** Tunnels served by sockets on this node. */
export class LocalTunnelDirectory implements TunnelDirectory {
  private readonly endpoints = new Map<string, TunnelEndpoint>();

  find(name: string): TunnelEndpoint | null {
    return this.endpoints.get(name) ?? null;
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
