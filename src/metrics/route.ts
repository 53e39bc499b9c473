import { bearerMatches } from "../http/admin-token.ts";
import { jsonError } from "../http/errors.ts";
import { CONTENT_TYPE } from "./exposition.ts";
import type { MetricsRegistry } from "./registry.ts";

/** `GET /metrics`, behind `Authorization: Bearer <token>` when a token is set. */
export function metricsResponse(registry: MetricsRegistry, token: string | undefined, authorization: string | undefined): Response {
  if (token !== undefined && !bearerMatches(authorization, token)) {
    return jsonError(401, "metrics token required: Authorization: Bearer <token>", { "WWW-Authenticate": "Bearer" });
  }
  return new Response(registry.expose(), { headers: { "Content-Type": CONTENT_TYPE, "Cache-Control": "no-store" } });
}
