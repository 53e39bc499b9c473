import { Hono } from "hono";
import { HttpError, jsonError } from "./errors.ts";
import { deleteRoutes } from "./delete-routes.ts";
import { podRoutes, type PodRoutesOptions } from "./pod-routes.ts";

export interface AppOptions extends PodRoutesOptions {
  /** The Rondevu discovery API and where to mount it. */
  rondevu?: { prefix: string; app: Hono<any> };
  adminToken?: string;
  /** Live broker figures for `/health`. */
  health: () => { origins: string[]; sessions: number };
  /** The web console (`/` and `/console/…`). */
  console?: Hono<any>;
}

export function createApp(options: AppOptions): Hono {
  // Non-strict: `/rondevu/` (how Rondevu clients ask for the topic list) matches `/rondevu`.
  const app = new Hono({ strict: false });
  app.get("/health", (c) =>
    c.json({ ok: true, ...options.health(), registry: options.registry.name ?? "custom" }),
  );
  if (options.rondevu) app.route(options.rondevu.prefix, options.rondevu.app);
  if (options.console) app.route("/", options.console);
  app.route("/", deleteRoutes({ registry: options.registry, adminToken: options.adminToken, onDeleted: (id) => options.cache.delete(id) }));
  app.route("/", podRoutes(options));
  app.notFound(() => jsonError(404, "not found"));
  app.onError((error) => {
    if (error instanceof HttpError) return jsonError(error.status, error.message, error.headers);
    console.error("[gemmapod-signal] unhandled error:", error);
    return jsonError(500, "internal error");
  });
  return app;
}
