import type { Server } from "bun";
import type { Logger } from "../log/logger.ts";
import type { LimitName, RondevuOperation, ServerMetrics, StatusClass, UploadRefusal } from "../metrics/server-metrics.ts";
import { clientIp } from "./client-ip.ts";

export interface RequestObserverOptions {
  metrics: ServerMetrics;
  log: Logger;
  /** Counts and summarizes a limit refusal. */
  refused: (limit: LimitName) => void;
  rondevuPrefix: string;
  trustProxy: boolean;
}

const MAX_LOGGED_PATH = 256;

/** One log line and the HTTP metrics for every request: method, path, status, bytes, time, client. */
export class RequestObserver {
  constructor(private readonly o: RequestObserverOptions) {}

  /**
   * Runs `handle` and records what it answered. `streamed` bodies (tunnelled
   * responses) are never read to learn their size: only Content-Length counts.
   */
  async observe<R extends Response | undefined>(req: Request, server: Server<unknown>, handle: () => R | Promise<R>, options: { streamed?: boolean } = {}): Promise<R> {
    const started = performance.now();
    const ip = options.streamed ? clientIp(req, server, this.o.trustProxy) : undefined;
    const res = await handle();
    const path = pathOf(req.url);
    if (res && options.streamed) this.tunnelled(res);
    // No response: the request became a websocket (read its address before, while Bun still knew it).
    if (!res) {
      this.upgrade(req, path, 101, started, ip!);
      return res;
    }
    this.count(req.method, path, res.status);
    if (!this.o.log.enabled("info")) return res;
    const ms = performance.now() - started;
    const sized = options.streamed ? { res, bytes: declaredSize(res) } : await withKnownSize(res);
    this.line(req.method, path, res.status, sized.bytes, ms, ip ?? clientIp(req, server, this.o.trustProxy));
    return sized.res as R;
  }

  private tunnelled(res: Response): void {
    const { metrics } = this.o;
    metrics.tunnelResponses[statusClass(res.status)].inc();
    const bytes = declaredSize(res);
    if (bytes) metrics.tunnelResponseBytes.inc(bytes);
  }

  /** A websocket upgrade at `path`: 101 when upgraded, else the refusal sent. */
  upgrade(req: Request, path: string, status: number, started: number, client: string): void {
    this.count(req.method, path, status);
    if (this.o.log.enabled("info")) this.line(req.method, path, status, 0, performance.now() - started, client);
  }

  private line(method: string, path: string, status: number, bytes: number | undefined, ms: number, client: string): void {
    this.o.log.info("request", { method, path: path.slice(0, MAX_LOGGED_PATH), status, bytes, ms: Math.round(ms * 10) / 10, client });
  }

  private count(method: string, path: string, status: number): void {
    const { metrics, refused, rondevuPrefix } = this.o;
    metrics.httpResponses[statusClass(status)].inc();
    if (path === "/signal" || path === "/.tunnel" || path === "/.webrtc") {
      if (status === 503) refused("connections");
      else if (status === 429) refused("ws_connect");
    } else if (path === "/pods" && method === "POST") {
      if (status >= 400) metrics.podsRefused[uploadRefusal(status)].inc();
      if (status === 429) refused("uploads");
    } else if (path === rondevuPrefix || path.startsWith(`${rondevuPrefix}/`)) {
      const operation = rondevuOperation(path.slice(rondevuPrefix.length));
      (status < 400 ? metrics.rondevuOk : metrics.rondevuFailed)[operation].inc();
      if (status === 429) refused("rondevu");
    }
  }
}

/** The path of a request URL, without its query: no URL object per request. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

/**
 * The response and its body size: Content-Length when set (pod pages set it);
 * our own JSON and text bodies are read (they are small and already in
 * memory) and answered as the same bytes with the length known. Any other
 * body, streams above all, is passed on untouched and its size left out.
 */
async function withKnownSize(res: Response): Promise<{ res: Response; bytes?: number }> {
  const declared = declaredSize(res);
  if (declared !== undefined) return { res, bytes: declared };
  if (res.status === 101 || res.status === 204 || res.status === 304) return { res, bytes: 0 };
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json") && !type.startsWith("text/plain")) return { res };
  const body = await res.blob();
  return { res: new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers }), bytes: body.size };
}

function declaredSize(res: Response): number | undefined {
  const length = res.headers.get("content-length");
  return length === null ? undefined : Number(length);
}

function statusClass(status: number): StatusClass {
  if (status < 200) return "1xx";
  if (status < 300) return "2xx";
  if (status < 400) return "3xx";
  return status < 500 ? "4xx" : "5xx";
}

function uploadRefusal(status: number): UploadRefusal {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 413) return "too_large";
  if (status === 429) return "rate_limited";
  return status < 500 ? "invalid" : "error";
}

const RONDEVU_ROUTES = new Map<string, RondevuOperation>([
  ["", "topics"],
  ["/", "topics"],
  ["/answer", "answer"],
  ["/poll", "poll"],
  ["/leave", "leave"],
  ["/health", "health"],
]);

/** The Rondevu route a path (after the prefix) names. */
function rondevuOperation(rest: string): RondevuOperation {
  const fixed = RONDEVU_ROUTES.get(rest);
  if (fixed) return fixed;
  if (rest.endsWith("/offer")) return "offer";
  if (rest.endsWith("/sessions")) return "sessions";
  return "other";
}
