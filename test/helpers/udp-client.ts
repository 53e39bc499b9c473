// A UDP client for STUN and TURN tests: send a datagram, await the next one.

export async function freeUdpPort(): Promise<number> {
  const probe = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const { port } = probe;
  probe.close();
  return port;
}

export class UdpClient {
  private readonly inbox: Uint8Array[] = [];
  private waiter?: (packet: Uint8Array) => void;

  private constructor(private readonly socket: Awaited<ReturnType<typeof Bun.udpSocket>>) {}

  static async open(): Promise<UdpClient> {
    let client: UdpClient;
    const socket = await Bun.udpSocket({
      hostname: "127.0.0.1",
      socket: {
        data(_s, data) {
          const packet = new Uint8Array(data);
          if (client.waiter) client.waiter(packet);
          else client.inbox.push(packet);
        },
        // ICMP port unreachable (nobody listening yet): the next retransmission may find someone.
        error() {},
      },
    });
    client = new UdpClient(socket);
    return client;
  }

  get port(): number {
    return this.socket.port;
  }

  send(packet: Uint8Array, port: number, address = "127.0.0.1"): void {
    this.socket.send(packet, port, address);
  }

  /** The next datagram, or null after `ms`. */
  receive(ms = 2000): Promise<Uint8Array | null> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => ((this.waiter = undefined), resolve(null)), ms);
      this.waiter = (packet) => (clearTimeout(timer), (this.waiter = undefined), resolve(packet));
    });
  }

  /** Sends `packet` (again every half second, as STUN clients retransmit) until an answer comes. */
  async ask(packet: Uint8Array, port: number, ms = 5000): Promise<Uint8Array> {
    for (const until = Date.now() + ms; Date.now() < until; ) {
      this.send(packet, port);
      const answer = await this.receive(Math.min(500, until - Date.now()));
      if (answer) return answer;
    }
    throw new Error(`no answer from udp/${port} within ${ms} ms`);
  }

  close(): void {
    this.socket.close();
  }
}
