import { jsonError } from "../http/errors.ts";
import type { TunnelledSocket, VisitorSocketSink } from "./directory.ts";

/** Unsent bytes towards the tunnel's node beyond which the visitor is cut off, not buffered for. */
const HOP_BACKLOG_BYTES = 1024 * 1024;
/** Frames the tunnel's node may send before the visitor's socket is open. */
const MAX_EARLY_FRAMES = 64;

/** Close codes a websocket may send (RFC 6455 §7.4): others become 1000. */
const sendable = (code: number) => (code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000);

/**
 * A tunnelled websocket whose tunnel is on another node: a websocket to that node's hop path,
 * bridged to the visitor's. Resolves once the other node accepted it, or with a 502.
 */
export function hopSocket(url: string, headers: Headers, protocols: string[], name: string, timeoutMs: number): Promise<TunnelledSocket | Response> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: Object.fromEntries(headers), protocols } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    const timer = setTimeout(() => {
      resolve(jsonError(504, `the node serving tunnel "${name}" did not answer`));
      ws.close();
    }, timeoutMs);
    let visitor: VisitorSocketSink | undefined;
    let early: (string | Uint8Array)[] = [];
    let open = false;
    ws.onmessage = (e) => {
      const data = typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer);
      if (visitor) return visitor.send(data);
      if (early.push(data) > MAX_EARLY_FRAMES) ws.close(1008, "too many frames before the visitor was connected");
    };
    ws.onclose = (e) => {
      clearTimeout(timer);
      if (!open) return resolve(jsonError(502, `the node serving tunnel "${name}" refused or could not take the websocket`));
      visitor?.close(sendable(e.code), e.reason);
    };
    ws.onopen = () => {
      clearTimeout(timer);
      open = true;
      resolve({
        headers: new Headers(ws.protocol ? { "sec-websocket-protocol": ws.protocol } : {}),
        opened(sink) {
          visitor = sink;
          for (const data of early) sink.send(data);
          early = [];
          if (ws.readyState === WebSocket.CLOSED) sink.close(1011, "the tunnel's node closed the websocket");
        },
        message(data) {
          if (ws.bufferedAmount > HOP_BACKLOG_BYTES) return ws.close(1013, "the tunnel is not reading");
          ws.send(data);
        },
        closed(code, reason) {
          ws.close(sendable(code), reason);
        },
      });
    };
  });
}
