import type { Server } from "bun";
import { Hono } from "hono";
import { clientIp } from "../http/client-ip.ts";
import { jsonError } from "../http/errors.ts";
import type { Logger } from "../log/logger.ts";
import type { PodCache } from "../http/pod-cache.ts";
import { META_HEADERS } from "../http/security-headers.ts";
import type { Registry } from "../registry/types.ts";
import { loadConsoleBundle, type ConsoleBundle } from "./assets.ts";
import { assetHeaders, PAGE_HEADERS } from "./headers.ts";
import { LiveViewers } from "./live-viewers.ts";
import page from "./page.html";
import { podOrigins } from "./pod-origins.ts";
import { StatusSampler } from "./sampler.ts";
import type { ConsoleStatusProvider } from "./status.ts";
import { formatBytes } from "./shared/status-fields.ts";
import { renderStatus } from "./status-html.ts";

export interface ConsoleOptions {
  status: ConsoleStatusProvider;
  registry: Registry;
  cache: PodCache;
  hasOrigin: (podId: string) => Promise<boolean>;
  maxViewers: number;
  trustProxy: boolean;
  /** Shown on the page, which refuses bigger files before uploading them. */
  maxPodBytes: number;
  log: Logger;
}

export interface WebConsole {
  app: Hono<{ Bindings: { server: Server<unknown> } }>;
  /** Stops the ticker and ends every live stream. */
  close(): void;
}

const ASSET_PREFIX = "/console/assets/";
const PLACEHOLDER = "{{status}}";
const ID = ":id{[A-Za-z0-9_-]{12}}";

/** Built once per process, whichever server asks first. */
let bundle: Promise<ConsoleBundle> | undefined;
const consoleBundle = () => (bundle ??= loadConsoleBundle(page, ASSET_PREFIX));

/** The page with this server's settings filled in, split where each request's status goes. */
async function pageTemplate(maxPodBytes: number): Promise<{ before: string; after: string }> {
  const html = (await consoleBundle()).html.replaceAll("{{maxPodBytes}}", String(maxPodBytes)).replaceAll("{{maxPodSize}}", formatBytes(maxPodBytes));
  const at = html.indexOf(PLACEHOLDER);
  if (at === -1) throw new Error(`the console page lacks its ${PLACEHOLDER} placeholder`);
  return { before: html.slice(0, at), after: html.slice(at + PLACEHOLDER.length) };
}

/** The web console at `/`: the page, its assets, live status events and a pod's origin state. */
export function createConsole(options: ConsoleOptions): WebConsole {
  const viewers = new LiveViewers({ maxViewers: options.maxViewers, maxPerAddress: 10 });
  const sampler = new StatusSampler({ status: options.status, onSnapshot: (json) => viewers.broadcast(json), log: options.log });
  const app = new Hono<{ Bindings: { server: Server<unknown> } }>();
  let template: ReturnType<typeof pageTemplate> | undefined;

  app.get("/", async () => {
    const [{ before, after }, snapshot] = await Promise.all([(template ??= pageTemplate(options.maxPodBytes)), sampler.snapshot()]);
    return new Response(before + renderStatus(snapshot) + after, { headers: PAGE_HEADERS });
  });

  app.get(`${ASSET_PREFIX}:name`, async (c) => {
    const asset = (await consoleBundle()).assets.get(c.req.param("name"));
    if (!asset) return jsonError(404, "not found");
    if (c.req.header("if-none-match") === asset.etag) return new Response(null, { status: 304, headers: { ETag: asset.etag } });
    return new Response(asset.body, { headers: assetHeaders(asset.type, asset.etag) });
  });

  app.get("/console/events", async (c) => {
    return viewers.open(clientIp(c.req.raw, c.env.server, options.trustProxy), await sampler.json());
  });

  app.get(`/console/api/pods/${ID}/online`, async (c) => {
    const found = await podOrigins(c.req.param("id"), options.registry, options.cache, options.hasOrigin);
    return found ? Response.json(found, { headers: META_HEADERS }) : jsonError(404, "pod not found");
  });

  return {
    app,
    close() {
      sampler.stop();
      viewers.closeAll();
    },
  };
}
