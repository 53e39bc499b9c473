import type { Server } from "bun";
import type { Context } from "hono";
import { RateLimiter } from "../limits/rate-limiter.ts";
import type { VerifiedManifest } from "../manifest/types.ts";
import { bearerMatches } from "./admin-token.ts";
import { clientIp } from "./client-ip.ts";
import { HttpError } from "./errors.ts";

export interface UploadPolicy {
  /** Uploads per minute per client address (bursts of the same number). */
  uploadsPerMinute: number;
  trustProxy: boolean;
  /** Owner keys (lowercase hex) allowed to publish; undefined = anyone. */
  allowedOwners?: ReadonlySet<string>;
  /** Shared secret (`Authorization: Bearer …`) that also lets a request publish. */
  uploadToken?: string;
}

/**
 * Who may publish. With neither an owner list nor a token configured, anyone
 * with a validly signed pod; otherwise a listed owner key or the token — the
 * signed manifest is the account system.
 */
export class UploadGuard {
  private readonly limiter: RateLimiter;

  constructor(private readonly policy: UploadPolicy) {
    this.limiter = new RateLimiter(policy.uploadsPerMinute / 60, policy.uploadsPerMinute);
  }

  /** Before the body is read: rate limit, and a wrong or (when only a token can admit) missing token. */
  admit(c: Context<{ Bindings: { server: Server<unknown> } }>): { tokenOk: boolean } {
    const retry = this.limiter.take(clientIp(c.req.raw, c.env.server, this.policy.trustProxy));
    if (retry > 0) throw new HttpError(429, "too many uploads from this address", { "Retry-After": String(retry) });
    const { uploadToken, allowedOwners } = this.policy;
    if (uploadToken === undefined) return { tokenOk: false };
    const header = c.req.header("authorization");
    if (header === undefined) {
      if (!allowedOwners) throw new HttpError(401, "this server needs an upload token: Authorization: Bearer <token>", { "WWW-Authenticate": "Bearer" });
      return { tokenOk: false };
    }
    if (!bearerMatches(header, uploadToken)) {
      throw new HttpError(403, "upload token is not valid");
    }
    return { tokenOk: true };
  }

  /** After verification, before storing: the signing key must be allowed. */
  checkOwner(verified: VerifiedManifest, tokenOk: boolean): void {
    const { allowedOwners, uploadToken } = this.policy;
    if (tokenOk || (!allowedOwners && uploadToken === undefined)) return;
    if (!allowedOwners?.has(verified.manifest.owner_pubkey.toLowerCase())) {
      throw new HttpError(403, "pods signed by this owner key are not accepted here");
    }
  }
}
