// A WebSocket client for tests: queues every message so a test can await the
// next one that matches, with a timeout instead of a hang.

export type Json = Record<string, any>;
type Match = Json | ((m: Json) => boolean);

/** A predicate, or an object whose fields a message must have. */
const matcher = (match: Match) => (typeof match === "function" ? match : (m: Json) => Object.entries(match).every(([k, v]) => m[k] === v));

export class TestSocket {
  readonly ws: WebSocket;
  private readonly inbox: Json[] = [];
  private waiters: { match: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The broker's challenge nonce, once it arrived. */
  nonce?: string;
  private gotNonce: (nonce: string) => void = () => {};
  readonly challenge: Promise<string> = new Promise((resolve) => (this.gotNonce = resolve));

  constructor(url: string, options?: { headers?: Record<string, string> }) {
    this.ws = new WebSocket(url, options as any);
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener("open", () => resolve(), { once: true });
      this.ws.addEventListener("error", () => reject(new Error("websocket error")), { once: true });
    });
    this.closed = new Promise((resolve) =>
      this.ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason }), { once: true }),
    );
    this.ws.addEventListener("message", (e) => {
      const m = JSON.parse(String(e.data));
      // Like real clients, tests ignore the owner-proof challenge unless they ask for it
      // (/signal says `t`, the key-addressed sockets say `type`).
      if ((m.t ?? m.type) === "challenge" && this.nonce === undefined) {
        this.nonce = m.nonce;
        this.gotNonce(m.nonce);
        return;
      }
      const i = this.waiters.findIndex((w) => w.match(m));
      if (i === -1) return void this.inbox.push(m);
      const [w] = this.waiters.splice(i, 1);
      w!.resolve(m);
    });
  }

  static async open(url: string, options?: { headers?: Record<string, string> }): Promise<TestSocket> {
    const s = new TestSocket(url, options);
    await s.opened;
    return s;
  }

  send(m: Json | string | Uint8Array): void {
    this.ws.send(typeof m === "string" || m instanceof Uint8Array ? m : JSON.stringify(m));
  }

  /** The next message matching `match` (by default, any), or a rejection after `ms`. */
  next(match: Match = () => true, ms = 3000): Promise<Json> {
    const fn = matcher(match);
    const i = this.inbox.findIndex(fn);
    if (i !== -1) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { match: fn, resolve: (m: Json) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching message within ${ms} ms; inbox: ${JSON.stringify(this.inbox).slice(0, 300)}`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  /**
   * Asserts nothing matching `match` arrived before `marker`: the test has sent something
   * that travels the same way as what must not arrive, after it, and `marker` is that
   * something arriving. One path keeps its order, so this proves the silence a short wait
   * only hopes for. Returns the marker.
   */
  async nothingBefore(match: Match, marker: Match, ms = 10_000): Promise<Json> {
    const seen = await this.next(marker, ms);
    const [got] = this.unread(match);
    if (got) throw new Error(`unexpected message ${JSON.stringify(got)}`);
    return seen;
  }

  /**
   * Asserts nothing matching arrives for `ms`: a silence, not proof (a late message on a
   * busy machine passes it). Only where no marker can follow the same path, as after a
   * cluster resync; everywhere else use nothingBefore.
   */
  async silentFor(match: Match, ms: number): Promise<void> {
    const got = await this.next(match, ms).catch(() => null);
    if (got) throw new Error(`unexpected message ${JSON.stringify(got)}`);
  }

  /** Messages matching `match` that arrived and were not taken by `next`. */
  unread(match: Match = () => true): Json[] {
    return this.inbox.filter(matcher(match));
  }

  close(): void {
    this.ws.close();
  }
}

/** An origin that has registered `podId`. */
export async function registeredOrigin(wsUrl: string, podId: string): Promise<TestSocket> {
  const origin = await TestSocket.open(wsUrl);
  origin.send({ t: "register", podId });
  await origin.next({ t: "registered" });
  return origin;
}

/** A visitor whose offer for `sessionId` has reached `origin`. */
export async function offeringVisitor(wsUrl: string, origin: TestSocket, podId: string, sessionId: string): Promise<TestSocket> {
  const visitor = await TestSocket.open(wsUrl);
  visitor.send({ t: "offer", podId, sessionId, sdp: "o" });
  await origin.next({ t: "offer", sessionId });
  return visitor;
}
