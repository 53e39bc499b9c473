// The ICE servers handed to peers, so an app needs no STUN or TURN configured by hand.

/** One entry of RTCConfiguration.iceServers. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface IceServerOptions {
  /** turn:/turns: URLs of a TURN server checking `use-auth-secret` (coturn's TURN REST API). */
  turnUrls: readonly string[];
  turnSecret: string | undefined;
  turnTtlMs: number;
  /** Our own STUN port (0: none). */
  stunPort: number;
}

/**
 * TURN REST API credentials: username `<unix expiry>:<peer key>`, credential the
 * base64 HMAC-SHA1 of the username under the shared secret. The TURN server checks
 * them without asking us; the expiry bounds what a leaked one is worth.
 */
export function turnCredential(secret: string, username: string): string {
  return new Bun.CryptoHasher("sha1", secret).update(username).digest("base64");
}

/** The servers for `peerKey`, which dialed us at `host` (a Host header value, our STUN port is there). */
export function iceServersFor(options: IceServerOptions, peerKey: string, host: string, nowMs = Date.now()): IceServer[] {
  const servers: IceServer[] = [];
  if (options.stunPort > 0) {
    const hostname = stunHostname(host);
    if (hostname) servers.push({ urls: [`stun:${hostname}:${options.stunPort}`] });
  }
  if (options.turnUrls.length > 0 && options.turnSecret) {
    const username = `${Math.floor((nowMs + options.turnTtlMs) / 1000)}:${peerKey}`;
    servers.push({ urls: [...options.turnUrls], username, credential: turnCredential(options.turnSecret, username) });
  }
  return servers;
}

/** The host part of a Host header (`[::1]` stays bracketed, as a stun: URL needs it), or null. */
function stunHostname(host: string): string | null {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}
