import { throttledErrors, type Logger } from "../log/logger.ts";
import { RedisClient } from "bun";
import { RouteBatch } from "./route-batch.ts";
import { ALL_SCRIPTS, type Script } from "./redis-scripts.ts";
import { REPLY_TIMEOUT_MS, ReplyDeadlines } from "./redis-deadlines.ts";

/** Commands (a batch counts each message) waiting for Redis at once; past it they fail at once instead of piling up in memory. */
const MAX_IN_FLIGHT = 50_000;

export interface LinkEvents {
  /** A message on this node's channel. */
  message(text: string): void;
  /**
   * Both connections are up again after either dropped (once per gap, however many
   * connections it took): Redis may have lost everything, and messages to this node were lost.
   */
  reconnected(): void;
}

/**
 * This node's two connections to Redis: commands, and the subscriber of its own
 * channel. Every call is handled: a failure resolves `undefined` (an unhandled
 * rejection would end the process), so callers decide what "Redis is away" means.
 * Bun reconnects by itself but restores no subscription: that is re-issued here.
 */
export class RedisLink {
  private readonly cmd: RedisClient;
  private readonly sub: RedisClient;
  private readonly channel: string;
  /** What this node publishes and subscribes to, gathered per event-loop turn. */
  readonly routes: RouteBatch;
  private subscribed = false;
  /** The channel's listener is registered with the client (once for its lifetime). */
  private listening = false;
  private started = false;
  private closed = false;
  private inFlight = 0;
  /**
   * Calls ran out of time (Redis froze): degraded until the next reply. Nothing to announce
   * again after it: what ran late ran in order, and what pub/sub held back comes after.
   */
  private stalled = false;
  /** A connection came back; `reconnected` waits until the other is up too. */
  private gap = false;
  private readonly deadlines: ReplyDeadlines;
  private readonly logError: (msg: string, error: unknown) => void;
  /** Calls that failed or were refused, for benchmarks and logs. */
  failures = 0;

  constructor(
    url: string,
    node: string,
    private readonly events: LinkEvents,
    readonly logger: Logger,
  ) {
    this.channel = `gp:n:${node}`;
    this.logError = throttledErrors(logger);
    this.routes = new RouteBatch(node, (script, keys, args) => this.runNow(script, keys, args, keys.length));
    // No offline queue: while Redis is away calls fail fast and local traffic goes on.
    const options = { enableOfflineQueue: false, autoReconnect: true, maxRetries: 1_000_000, connectionTimeout: 5000 };
    this.cmd = new RedisClient(url, options);
    this.sub = new RedisClient(url, options);
    this.deadlines = new ReplyDeadlines((count) => {
      this.failures += count;
      this.stalled = true;
      this.log(`redis did not answer ${count} call(s)`, `no reply within ${REPLY_TIMEOUT_MS / 1000} s`);
    });
    this.cmd.onconnect = () => {
      if (!this.started || this.closed) return;
      this.loadScripts();
      this.gap = true;
      this.afterGap();
    };
    // What was published to this node while its subscriber was away is lost: a gap too.
    this.sub.onconnect = () => {
      if (!this.started || this.closed) return;
      this.gap = true;
      void this.resubscribe().then((ok) => ok && this.afterGap());
    };
  }

  /** Resolves once this node receives its channel; retries until Redis answers or close(). */
  async start(): Promise<void> {
    for (let delay = 100; !this.closed; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.cmd.connect();
        await this.sub.connect();
        // subscribe() a second time would deliver every message twice: retries use the raw command.
        if (this.listening) await this.sub.send("SUBSCRIBE", [this.channel]);
        else {
          this.listening = true;
          await this.sub.subscribe(this.channel, (text) => this.events.message(text));
        }
        // subscribe() resolving is not the server's acknowledgement; a reply after it is.
        await this.sub.ping();
        this.subscribed = true;
        this.started = true;
        this.loadScripts();
        return;
      } catch (error) {
        this.log("could not join the cluster yet", error);
        await Bun.sleep(delay);
      }
    }
  }

  up(): boolean {
    return this.started && this.subscribed && !this.stalled && this.cmd.connected && this.sub.connected;
  }

  /** One command, after what was routed before it; undefined if it failed. */
  call(command: string, args: string[]): Promise<unknown> {
    this.routes.flush();
    if (this.inFlight >= MAX_IN_FLIGHT || !this.cmd.connected) return Promise.resolve(this.refuse());
    this.inFlight++;
    return this.deadlines.bound(this.cmd.send(command, args).then(this.done, this.failed));
  }

  /**
   * A script, after what was routed before it; undefined if it failed. A script that missed the
   * reply deadline may still run once Redis answers: `late` gets its reply then, to undo it.
   */
  run(s: Script, keys: string[], args: string[], late?: (reply: unknown) => void): Promise<unknown> {
    this.routes.flush();
    return this.runNow(s, keys, args, 1, late);
  }

  /** A script by its hash, loading it if this Redis has not seen it (a restart empties the cache). */
  private runNow(s: Script, keys: string[], args: string[], weight = 1, late?: (reply: unknown) => void): Promise<unknown> {
    if (this.inFlight + weight > MAX_IN_FLIGHT || !this.cmd.connected) return Promise.resolve(this.refuse());
    this.inFlight += weight;
    const tail = [String(keys.length), ...keys, ...args];
    const settled = (reply: unknown) => {
      this.inFlight -= weight;
      this.stalled = false;
      return reply;
    };
    return this.deadlines.bound(this.cmd
      .send("EVALSHA", [s.sha, ...tail])
      .catch((error: unknown) => {
        if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
        return this.cmd.send("EVAL", [s.text, ...tail]);
      })
      .then(settled, (error: unknown) => (settled(undefined), this.fail(error))), late);
  }

  private readonly done = (reply: unknown): unknown => {
    this.inFlight--;
    this.stalled = false;
    return reply;
  };

  private afterGap(): void {
    if (!this.gap || this.closed || !this.cmd.connected || !this.sub.connected || !this.subscribed) return;
    this.gap = false;
    this.events.reconnected();
  }

  private readonly failed = (error: unknown): undefined => {
    this.inFlight--;
    return this.fail(error);
  };

  close(): void {
    this.closed = true;
    this.deadlines.close();
    this.cmd.close();
    this.sub.close();
  }

  private async resubscribe(): Promise<boolean> {
    this.subscribed = false;
    try {
      // subscribe() again would deliver each message twice; the raw command restores the server side only.
      await this.sub.send("SUBSCRIBE", [this.channel]);
      await this.sub.ping();
      return (this.subscribed = true);
    } catch (error) {
      this.log("could not re-subscribe (retried on the next reconnect)", error);
      return false;
    }
  }

  private loadScripts(): void {
    for (const s of ALL_SCRIPTS) void this.call("SCRIPT", ["LOAD", s.text]);
  }

  private refuse(): undefined {
    this.failures++;
    return undefined;
  }

  private fail(error: unknown): undefined {
    this.failures++;
    this.log("redis call failed", error);
    return undefined;
  }

  /** At most one line per 10 s: an outage must not flood the log. */
  private log(what: string, error: unknown): void {
    if (!this.closed) this.logError(`cluster: ${what}`, error);
  }
}
