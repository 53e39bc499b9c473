import { textMatches } from "../http/admin-token.ts";
import { jsonError } from "../http/errors.ts";
import type { SignedRequestVerifier } from "../identity/signed-request.ts";
import type { RegisterOptions } from "./protocol.ts";

/** A tunnel's optional visitor check, answered by the broker itself (401). */
export type TunnelAccess = ((request: Request, path: string) => Promise<Response | null>) | null;

/** The access rule a client asked for when it registered, or null for an open tunnel. */
export function tunnelAccess(options: RegisterOptions, verifier: SignedRequestVerifier): TunnelAccess {
  if (options.auth) {
    const expected = `Basic ${Buffer.from(options.auth.slice("basic:".length)).toString("base64")}`;
    return async (request) => {
      if (textMatches(request.headers.get("authorization") ?? "", expected)) return null;
      return jsonError(401, "this tunnel needs a user name and password", { "WWW-Authenticate": 'Basic realm="tunnel", charset="UTF-8"' });
    };
  }
  if (options.allowKeys) {
    const prefixes = options.allowKeys.map((k) => k.toLowerCase());
    return async (request, path) => {
      const proof = await verifier.verify(request.headers.get("authorization") ?? undefined, request.method, path);
      if ("error" in proof) return jsonError(401, `this tunnel admits listed keys only: ${proof.error}`, { "WWW-Authenticate": "GemmaPod-Ed25519" });
      if (!prefixes.some((p) => proof.owner.startsWith(p))) return jsonError(401, "this key is not on the tunnel's allow-list");
      return null;
    };
  }
  return null;
}
