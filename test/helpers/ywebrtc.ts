// Raw y-webrtc signaling clients for tests: JSON frames as y-webrtc 10.x sends them.
import { TestSocket } from "./ws-client.ts";

/** The y-webrtc URL of a server at http(s)://host:port. */
export function yUrl(serverUrl: string, path = "/y-webrtc"): string {
  return `${serverUrl.replace(/^http/, "ws")}${path}`;
}

/** A socket subscribed to `topics`: a ping sent after the subscribe is answered only once the subscribe is in effect. */
export async function ySubscriber(url: string, topics: string[]): Promise<TestSocket> {
  const s = await TestSocket.open(url);
  await subscribe(s, topics);
  return s;
}

export async function subscribe(s: TestSocket, topics: string[]): Promise<void> {
  s.send({ type: "subscribe", topics });
  s.send({ type: "ping" });
  await s.next({ type: "pong" });
}

export function publish(s: TestSocket, topic: string, data: unknown): void {
  s.send({ type: "publish", topic, data });
}

/** Publishes from `s` until its own copy says `clients` is `want` (what other nodes report arrives after a round trip), or `ms` pass; the last count seen. */
export async function clientsSettle(s: TestSocket, topic: string, want: number, ms = 3000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    publish(s, topic, "count?");
    const got = (await s.next((m) => m.data === "count?")).clients as number;
    if (got === want || Date.now() > deadline) return got;
    await Bun.sleep(50);
  }
}
