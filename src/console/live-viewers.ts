import { jsonError } from "../http/errors.ts";

export interface LiveViewersOptions {
  /** Consoles receiving events at once, in all. */
  maxViewers: number;
  /** From one client address (several tabs, not a flood). */
  maxPerAddress: number;
}

interface Viewer {
  controller: ReadableStreamDefaultController<Uint8Array>;
  address: string;
}

/** Unread events a viewer may fall behind by (one a second) before it is dropped. */
const MAX_BACKLOG = 30;
const encoder = new TextEncoder();

/**
 * The consoles following `/console/events` (server-sent events). Each event is
 * encoded once and the same bytes are queued for every viewer; one that stops
 * reading is dropped instead of being buffered for without end.
 */
export class LiveViewers {
  private readonly viewers = new Set<Viewer>();
  private readonly perAddress = new Map<string, number>();
  private closed = false;

  constructor(private readonly options: LiveViewersOptions) {}

  count(): number {
    return this.viewers.size;
  }

  /** An event stream starting with `initial`, or a 503/429 when there is no room. */
  open(address: string, initial: string | undefined): Response {
    if (this.closed) return jsonError(503, "server is shutting down");
    if (this.viewers.size >= this.options.maxViewers) {
      return jsonError(503, `too many live consoles (limit ${this.options.maxViewers}); reload later`, { "Retry-After": "30" });
    }
    if ((this.perAddress.get(address) ?? 0) >= this.options.maxPerAddress) {
      return jsonError(429, `too many live consoles from this address (limit ${this.options.maxPerAddress})`, { "Retry-After": "30" });
    }
    let viewer: Viewer;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          viewer = { controller, address };
          this.add(viewer);
          // Browsers reconnect after this many ms when the stream breaks.
          controller.enqueue(encoder.encode(`retry: 3000\n\n${initial === undefined ? "" : event(initial)}`));
        },
        cancel: () => this.remove(viewer),
      },
      { highWaterMark: 1 },
    );
    return new Response(stream, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        // Proxies such as nginx would otherwise hold events back.
        "X-Accel-Buffering": "no",
      },
    });
  }

  broadcast(json: string): void {
    if (this.viewers.size === 0) return;
    const bytes = encoder.encode(event(json));
    for (const viewer of this.viewers) {
      if ((viewer.controller.desiredSize ?? 0) < -MAX_BACKLOG) this.end(viewer, new Error("viewer stopped reading"));
      else viewer.controller.enqueue(bytes);
    }
  }

  /** Ends every stream (server shutdown) and refuses new ones. */
  closeAll(): void {
    this.closed = true;
    for (const viewer of this.viewers) this.end(viewer);
  }

  private add(viewer: Viewer): void {
    this.viewers.add(viewer);
    this.perAddress.set(viewer.address, (this.perAddress.get(viewer.address) ?? 0) + 1);
  }

  private remove(viewer: Viewer): void {
    if (!this.viewers.delete(viewer)) return;
    const left = (this.perAddress.get(viewer.address) ?? 1) - 1;
    if (left === 0) this.perAddress.delete(viewer.address);
    else this.perAddress.set(viewer.address, left);
  }

  /** With a reason the stream errors, discarding its unread backlog; without, it ends cleanly. */
  private end(viewer: Viewer, reason?: Error): void {
    this.remove(viewer);
    try {
      if (reason) viewer.controller.error(reason);
      else viewer.controller.close();
    } catch {
      // Already closed by the client going away.
    }
  }
}

function event(json: string): string {
  return `data: ${json}\n\n`;
}
