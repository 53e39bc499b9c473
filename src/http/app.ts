import type { HubStatus } from "../cluster/hub.ts";
import { Hono } from "hono";
import { storeAwayResponse } from "../registry/store-outages.ts";
import { errorFields, Logger } from "../log/logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { metricsResponse } from "../metrics/route.ts";
import { HttpError, jsonError } from "./errors.ts";
import { deleteRoutes } from "./delete-routes.ts";
import { podRoutes, type PodRoutesOptions } from "./pod-routes.ts";
import type { Warnings } from "../warnings.ts";

export interface AppOptions extends PodRoutesOptions {
  /** Protocols' HTTP APIs (Rondevu) and where to mount them. */
  mounts?: { prefix: string; app: Hono<any> }[];
  adminToken?: string;
  /** Live broker figures for `/health`. */
  health: () => Record<string, unknown> & { cluster?: HubStatus };
  /** The web console (`/` and `/console/…`). */
  console?: Hono<any>;
  /** Setup problems noticed so far, listed on `/health`. */
  warnings: Warnings;
  log?: Logger;
  /** `GET /metrics`, optionally behind a Bearer token. */
  metrics?: { registry: MetricsRegistry; token?: string };
  /** After a pod was taken down (by its owner or an admin). */
  onPodDeleted?: (id: string) => void;
}

export function createApp(options: AppOptions): Hono {
  // Non-strict: `/rondevu/` (how Rondevu clients ask for the topic list) matches `/rondevu`.
  const app = new Hono({ strict: false });
  app.get("/health", (c) =>
    c.json({
      ok: true,
      ...options.health(),
      registry: options.registry.name ?? "custom",
      damagedPods: options.registry.damagedPods?.() ?? 0,
      // Still ok: signaling works, and every node shares the store; each store away and since when.
      storesAway: options.outages?.list() ?? [],
      warnings: options.warnings.list(),
    }),
  );
  const { metrics } = options;
  if (metrics) app.get("/metrics", (c) => metricsResponse(metrics.registry, metrics.token, c.req.header("authorization")));
  for (const mount of options.mounts ?? []) app.route(mount.prefix, mount.app);
  if (options.console) app.route("/", options.console);
  app.route(
    "/",
    deleteRoutes({
      registry: options.registry,
      adminToken: options.adminToken,
      onDeleted: (id) => {
        options.cache.delete(id);
        options.onPodDeleted?.(id);
      },
    }),
  );
  app.route("/", podRoutes(options));
  app.notFound(() => jsonError(404, "not found"));
  const log = options.log ?? Logger.errorsOnly();
  app.onError((error, c) => {
    if (error instanceof HttpError) return jsonError(error.status, error.message, error.headers);
    const away = options.outages?.noticed(error);
    if (away) return storeAwayResponse(away);
    log.error("unhandled error", { method: c.req.method, path: c.req.path, ...errorFields(error) });
    return jsonError(500, "internal error");
  });
  return app;
}
