// A WAN on loopback (this kernel has no netem): a TCP proxy that delays each direction by half
// the RTT and paces it to a line rate, like a long fat link with a modest router buffer.
// Bytes are stamped when they arrive (their departure at the line rate, plus the one-way delay)
// and released in batches by one timer per direction, not a timer per chunk: pacing 1 Gbit/s
// on two shared cores leaves no CPU for per-chunk work. Run alone it prints "wan ready <port>":
//   bun scripts/bench/wan-link.ts --to 127.0.0.1:8080 --rtt 40 [--mbit 1000]
import type { Socket } from "bun";

export interface WanOptions {
  /** Where connections go: host:port. */
  to: string;
  rttMs: number;
  /** Line rate each way, Mbit/s. */
  mbit: number;
  /** Bytes each direction may queue waiting for the line, beyond those in flight (the router's buffer). */
  bufferBytes?: number;
}

export interface WanLink {
  port: number;
  close(): void;
}

interface Stamped {
  bytes: Uint8Array;
  due: number;
}

/** One direction of one connection: bytes in flight, released to `out` when due. */
class Direction {
  private readonly queue: Stamped[] = [];
  private head = 0;
  /** When the line is free again (pacing). */
  private lineFree = 0;
  private timer?: Timer;
  private out?: Socket<unknown>;
  /** A write the socket did not take whole: the rest waits for its drain. */
  private stuck?: Uint8Array;
  private ended = false;
  private paused = false;

  constructor(
    private readonly from: () => Socket<unknown> | undefined,
    private readonly bytesPerMs: number,
    private readonly delayMs: number,
    private readonly buffer: number,
  ) {}

  connect(out: Socket<unknown>): void {
    this.out = out;
    this.release();
  }

  push(data: Uint8Array): void {
    const now = performance.now();
    this.lineFree = Math.max(now, this.lineFree) + data.byteLength / this.bytesPerMs;
    this.queue.push({ bytes: data, due: this.lineFree + this.delayMs });
    // A full router buffer: the sender waits (its kernel buffers fill, TCP pushes back).
    if (this.waiting(now) > this.buffer && !this.paused) {
      this.paused = true;
      this.from()?.pause();
      // Read again once half the buffer has gone onto the line (not when bytes come out: the
      // line would sit idle for the whole delay).
      setTimeout(() => this.unpause(), this.buffer / 2 / this.bytesPerMs);
    }
    if (!this.timer && !this.stuck) this.arm();
  }

  end(): void {
    this.ended = true;
    if (this.head === this.queue.length && !this.stuck) this.out?.end();
  }

  drain(): void {
    if (!this.stuck || !this.out) return;
    const rest = this.stuck;
    this.stuck = undefined;
    if (!this.write(rest)) return;
    this.release();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = this.head = 0;
  }

  private unpause(): void {
    if (!this.paused) return;
    const left = this.waiting(performance.now()) - this.buffer / 2;
    if (left > 0) return void setTimeout(() => this.unpause(), left / this.bytesPerMs);
    this.paused = false;
    this.from()?.resume();
  }

  /** Bytes that have not gone onto the line yet. */
  private waiting(now: number): number {
    return Math.max(0, this.lineFree - now) * this.bytesPerMs;
  }

  private arm(): void {
    if (this.head === this.queue.length) return;
    const wait = this.queue[this.head]!.due - performance.now();
    this.timer = setTimeout(() => ((this.timer = undefined), this.release()), Math.max(0, wait));
  }

  /** Writes everything due (a time slice's worth at once); false when the socket pushed back. */
  private write(bytes: Uint8Array): boolean {
    const n = this.out!.write(bytes);
    if (n < bytes.byteLength) {
      this.stuck = bytes.subarray(Math.max(0, n));
      return false;
    }
    return true;
  }

  private release(): void {
    if (!this.out || this.stuck) return;
    // Half a millisecond early: timers are coarse, and a batch beats a late straggler.
    const now = performance.now() + 0.5;
    while (this.head < this.queue.length && this.queue[this.head]!.due <= now) {
      const { bytes } = this.queue[this.head++]!;
      if (!this.write(bytes)) break;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) this.queue.splice(0, this.head), (this.head = 0);
    if (this.stuck) return;
    if (this.head === this.queue.length) {
      if (this.ended) this.out.end();
      return;
    }
    this.arm();
  }
}

interface Conn {
  up: Direction;
  down: Direction;
  client: Socket<Conn>;
  server?: Socket<unknown>;
}

export function startWanLink(options: WanOptions): WanLink {
  const [host, port] = [options.to.slice(0, options.to.lastIndexOf(":")), Number(options.to.slice(options.to.lastIndexOf(":") + 1))];
  const bytesPerMs = (options.mbit * 1e6) / 8 / 1000;
  const delayMs = options.rttMs / 2;
  // 8 ms of the line: a modest router.
  const buffer = options.bufferBytes ?? bytesPerMs * 8;
  const conns = new Set<Conn>();

  const listener = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const conn: Conn = { client } as Conn;
        conn.up = new Direction(() => conn.client as Socket<unknown>, bytesPerMs, delayMs, buffer);
        conn.down = new Direction(() => conn.server, bytesPerMs, delayMs, buffer);
        conn.down.connect(client as Socket<unknown>);
        client.data = conn;
        conns.add(conn);
        Bun.connect({
          hostname: host,
          port,
          socket: {
            open(server) {
              server.setNoDelay(true);
              conn.server = server;
              conn.up.connect(server);
            },
            data: (_s, data) => conn.down.push(data),
            drain: () => conn.up.drain(),
            end: () => conn.down.end(),
            close: () => conn.down.end(),
            error: () => void client.end(),
          },
        }).catch(() => client.end());
        client.setNoDelay(true);
      },
      data: (client, data) => client.data.up.push(data),
      drain: (client) => client.data.down.drain(),
      end: (client) => client.data.up.end(),
      close(client) {
        client.data.up.end();
        conns.delete(client.data);
      },
      error: (client) => void client.end(),
    },
  });
  return {
    port: listener.port,
    close() {
      listener.stop(true);
      for (const c of conns) {
        c.up.stop();
        c.down.stop();
        c.client.end();
        c.server?.end();
      }
      conns.clear();
    },
  };
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const to = arg("--to");
  if (!to) {
    console.error("usage: bun scripts/bench/wan-link.ts --to host:port --rtt MS [--mbit 1000]");
    process.exit(2);
  }
  const link = startWanLink({ to, rttMs: Number(arg("--rtt") ?? 0), mbit: Number(arg("--mbit") ?? 1000) });
  console.log(`wan ready ${link.port}`);
  process.on("SIGTERM", () => process.exit(0));
}
