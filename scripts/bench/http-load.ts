// HTTP GET load generator over raw keep-alive sockets, so that it counts the
// bytes that actually cross the wire (status line, headers and body, before any
// decompression). Each connection sends its next request when the previous
// response is complete. Bounded by request count and by time.
//   bun scripts/bench/http-load.ts '<HttpLoadOptions as JSON>'
import type { Socket } from "bun";

export interface HttpLoadOptions {
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  maxRequests: number;
}

export interface HttpLoadResult {
  requests: number;
  elapsedMs: number;
  requestsPerSec: number;
  /** Mean bytes received per response, headers included. */
  bytesPerResponse: number;
  statuses: Record<string, number>;
  contentEncodings: Record<string, number>;
  error?: string;
}

/** Incremental HTTP/1.1 response reader: head, then a Content-Length or chunked body. */
export class ResponseReader {
  private head = Buffer.alloc(0);
  private state: "head" | "length" | "chunk-size" | "chunk-data" | "trailer" = "head";
  private remaining = 0;
  private line = "";
  status = 0;
  contentEncoding = "identity";

  /** Feeds received bytes; returns how many belong to a response that is now complete, or -1 if more is needed. */
  feed(data: Uint8Array): number {
    let at = 0;
    while (at < data.length) {
      if (this.state === "head") {
        const prior = this.head.length;
        this.head = Buffer.concat([this.head, data.subarray(at)]);
        const end = this.head.indexOf("\r\n\r\n");
        if (end === -1) return -1;
        at += end + 4 - prior;
        if (this.parseHead(this.head.subarray(0, end).toString("latin1"))) return this.done(at);
      } else if (this.state === "length") {
        const take = Math.min(this.remaining, data.length - at);
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) return this.done(at);
      } else if (this.state === "chunk-data") {
        const take = Math.min(this.remaining, data.length - at);
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) this.state = "chunk-size";
      } else {
        // chunk-size and trailer lines: read up to LF ("\r\n" after a chunk's data reads as an empty line).
        const lf = data.indexOf(10, at);
        const upTo = lf === -1 ? data.length : lf;
        this.line += Buffer.from(data.subarray(at, upTo)).toString("latin1");
        at = lf === -1 ? data.length : lf + 1;
        if (lf === -1) return -1;
        const line = this.line.trim();
        this.line = "";
        if (this.state === "trailer") {
          if (line === "") return this.done(at);
        } else if (line !== "") {
          const size = parseInt(line, 16);
          if (size === 0) this.state = "trailer";
          else {
            this.remaining = size;
            this.state = "chunk-data";
          }
        }
      }
    }
    return -1;
  }

  /** Reads status and framing; true when the response has no body. */
  private parseHead(head: string): boolean {
    this.status = Number(head.slice(9, 12));
    const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "im").exec(head)?.[1]?.trim();
    this.contentEncoding = header("content-encoding") ?? "identity";
    if (/chunked/i.test(header("transfer-encoding") ?? "")) {
      this.state = "chunk-size";
      return false;
    }
    this.state = "length";
    this.remaining = Number(header("content-length") ?? 0);
    return this.remaining === 0;
  }

  /** Ends the current response; `at` bytes of the last feed belonged to it. */
  private done(at: number): number {
    this.state = "head";
    this.head = Buffer.alloc(0);
    return at;
  }
}

export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const headerLines = Object.entries(options.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const request = `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\n${headerLines}\r\n`;
  const result: HttpLoadResult = { requests: 0, elapsedMs: 0, requestsPerSec: 0, bytesPerResponse: 0, statuses: {}, contentEncodings: {} };
  let bytes = 0;
  let sent = 0;
  const start = performance.now();
  const until = start + options.seconds * 1000;
  const more = () => sent < options.maxRequests && performance.now() < until;

  const connection = () =>
    new Promise<void>((resolve) => {
      const reader = new ResponseReader();
      let received = 0;
      const next = (socket: Socket) => {
        if (!more()) return void socket.end();
        sent++;
        received = 0;
        socket.write(request);
      };
      const onData = (socket: Socket, data: Uint8Array) => {
        let rest = data;
        for (;;) {
          const used = reader.feed(rest);
          if (used === -1) return void (received += rest.length);
          received += used;
          result.requests++;
          bytes += received;
          result.statuses[reader.status] = (result.statuses[reader.status] ?? 0) + 1;
          result.contentEncodings[reader.contentEncoding] = (result.contentEncodings[reader.contentEncoding] ?? 0) + 1;
          rest = rest.subarray(used);
          next(socket);
          if (rest.length === 0) return;
        }
      };
      Bun.connect({
        hostname: options.host,
        port: options.port,
        socket: {
          open: next,
          data: onData,
          close: () => resolve(),
          error: (_socket, error) => {
            result.error ??= error.message;
            resolve();
          },
          connectError: (_socket, error) => {
            result.error ??= error.message;
            resolve();
          },
        },
      });
    });

  await Promise.all(Array.from({ length: options.connections }, connection));
  result.elapsedMs = performance.now() - start;
  result.requestsPerSec = (result.requests * 1000) / result.elapsedMs;
  result.bytesPerResponse = result.requests ? bytes / result.requests : 0;
  return result;
}

if (import.meta.main) {
  const result = await runHttpLoad(JSON.parse(process.argv[2]!) as HttpLoadOptions);
  console.log(JSON.stringify(result));
  process.exit(0);
}
