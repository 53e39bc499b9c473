// Shared by the server and every client (browser bundles included): no Node APIs here.

/**
 * What a peer or tunnel client signs to sign in: the host it dialed and the
 * socket's challenge. Naming the host stops a hostile server from relaying our
 * challenge to sign in as its own visitors somewhere else.
 */
export function authStatement(host: string, nonce: string): string {
  return `gemmapod-auth:${host}:${nonce}`;
}
