// Names on the hub for PeerJS ids, and the proof of a token that the claim carries.
/** Names of one key's ids; the length prefix keeps ("a:b","c") and ("a","b:c") apart. */
export function peerjsNames(key: string) {
  const space = `${key.length}:${key}:`;
  return {
    /** The claim on an id, and the topic its socket takes delivery on. */
    id: (id: string): string => `pj:${space}${id}`,
    /** Published when an id is taken, so messages waiting for it on other nodes go there. */
    arrival: (id: string): string => `pja:${space}${id}`,
  };
}
export type PeerjsNames = ReturnType<typeof peerjsNames>;

/**
 * What a claim on an id stores of its token: a digest bound to the key and id, never the
 * token itself (claims are readable across the cluster). Tokens are secrets: digests are only
 * ever compared in constant time (textMatches).
 */
export function tokenDigest(key: string, id: string, token: string): string {
  return new Bun.CryptoHasher("sha256").update(key).update("\0").update(id).update("\0").update(token).digest("base64");
}
