// A TCP gate between one cluster node and Redis, so a test can hold that node away from Redis
// (its connections dropped, new ones refused) while the others carry on: the way to make one
// node announce itself again later than another.
import type { Socket, TCPSocketListener } from "bun";

export interface RedisGate {
  url: string;
  /** Drops every connection through the gate and refuses new ones until `open`. */
  shut(): void;
  open(): void;
  stop(): void;
}

interface Pair {
  upstream?: Socket<Pair>;
  /** Bytes from the node that came before the upstream connection was up. */
  early: Uint8Array[];
  client: Socket<Pair>;
}

export function redisGate(redisPort: number): RedisGate {
  let shut = false;
  const pairs = new Set<Pair>();
  const listener: TCPSocketListener<Pair> = Bun.listen<Pair>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        if (shut) return void client.end();
        const pair: Pair = { early: [], client };
        client.data = pair;
        pairs.add(pair);
        void Bun.connect<Pair>({
          hostname: "127.0.0.1",
          port: redisPort,
          data: pair,
          socket: {
            data: (_up, bytes) => void pair.client.write(bytes),
            close: () => pair.client.end(),
            error: () => pair.client.end(),
          },
        }).then(
          (up) => {
            pair.upstream = up;
            for (const bytes of pair.early.splice(0)) up.write(bytes);
          },
          () => client.end(),
        );
      },
      data(client, bytes) {
        const pair = client.data;
        if (pair.upstream) pair.upstream.write(bytes);
        else pair.early.push(new Uint8Array(bytes));
      },
      close(client) {
        client.data?.upstream?.end();
        if (client.data) pairs.delete(client.data);
      },
      error(client) {
        client.data?.upstream?.end();
      },
    },
  });
  return {
    url: `redis://127.0.0.1:${listener.port}`,
    shut() {
      shut = true;
      for (const pair of pairs) {
        pair.upstream?.end();
        pair.client.end();
      }
      pairs.clear();
    },
    open() {
      shut = false;
    },
    stop() {
      this.shut();
      listener.stop(true);
    },
  };
}
