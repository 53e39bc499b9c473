// WS /y-webrtc with raw clients: the wire y-webrtc 10.x speaks (subscribe,
// unsubscribe, publish with `clients`, ping), and what the reference lacks:
// hostile frames answered with errors, publishing only where subscribed, the
// per-socket and per-topic bounds, tokens, the path flag, and metrics.
import { afterAll, describe, expect, test } from "bun:test";
import { Logger } from "../../src/log/logger.ts";
import { startServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/ws-client.ts";
import { nothingBeforePong, publish, subscribe, ySubscriber, yUrl } from "../helpers/ywebrtc.ts";
import { scrape, value } from "../helpers/metrics.ts";
import { until } from "../helpers/until.ts";

const srv = startServer();
const url = yUrl(srv.url);
afterAll(() => srv.close());

const announce = (from: string) => ({ type: "announce", from });

describe("the y-webrtc wire", () => {
  test("ping gets pong", async () => {
    const s = await TestSocket.open(url);
    s.send({ type: "ping" });
    expect(await s.next()).toEqual({ type: "pong" });
    s.close();
  });

  test("a publish reaches every subscriber of its topic, the sender too, as sent plus clients", async () => {
    const a = await ySubscriber(url, ["fan"]);
    const b = await ySubscriber(url, ["fan", "elsewhere"]);
    const c = await ySubscriber(url, ["other-room"]);
    const data = { type: "signal", from: "a", to: "b", token: 0.5, signal: { type: "offer", sdp: "v=0\r\n…" } };
    a.send({ type: "publish", topic: "fan", data, extra: [1, 2] });
    const expected = { type: "publish", topic: "fan", data, extra: [1, 2], clients: 2 };
    expect(await a.next()).toEqual(expected);
    expect(await b.next()).toEqual(expected);
    await nothingBeforePong(c);
    // An encrypted room's data is a string; it is relayed untouched.
    publish(b, "elsewhere", "AAEC+/==");
    expect(await b.next()).toEqual({ type: "publish", topic: "elsewhere", data: "AAEC+/==", clients: 1 });
    for (const s of [a, b, c]) s.close();
  });

  test("a sender's own clients member is overridden", async () => {
    const a = await ySubscriber(url, ["liar"]);
    a.send('{"type":"publish","topic":"liar","data":1,"clients":999}  \n');
    expect(await a.next()).toEqual({ type: "publish", topic: "liar", data: 1, clients: 1 });
    a.close();
  });

  test("unsubscribe stops delivery and lowers clients; a closed socket counts no more", async () => {
    const a = await ySubscriber(url, ["unsub"]);
    const b = await ySubscriber(url, ["unsub"]);
    const c = await ySubscriber(url, ["unsub"]);
    b.send({ type: "unsubscribe", topics: ["unsub", "never-subscribed", 7] });
    b.send({ type: "ping" });
    await b.next({ type: "pong" }); // the unsubscribe is in effect
    c.close();
    await until("the server hears c close", async () => value(await scrape(srv.url), 'gemmapod_signal_connections{kind="y-webrtc"}') === 2);
    publish(a, "unsub", announce("a"));
    expect((await a.next()).clients).toBe(1);
    await nothingBeforePong(b);
    // An unsubscribed socket may not publish there any more.
    publish(b, "unsub", announce("b"));
    expect(await b.next()).toEqual({ type: "error", message: "subscribe to a topic before publishing to it" });
    await nothingBeforePong(a);
    a.close();
    b.close();
  });

  test("a socket may publish only to topics it subscribed to", async () => {
    const victim = await ySubscriber(url, ["private"]);
    const stranger = await ySubscriber(url, ["mine"]);
    publish(stranger, "private", announce("stranger"));
    expect((await stranger.next()).type).toBe("error");
    await nothingBeforePong(victim);
    victim.close();
    stranger.close();
  });

  test("hostile frames get errors, never a crash, and disturb nobody", async () => {
    const bystander = await ySubscriber(url, ["hostile"]);
    const h = await ySubscriber(url, ["hostile"]);
    const frames: (string | Uint8Array)[] = [
      "not json", "null", "[]", '"text"', "42", "{}", '{"type":5}', '{"type":"subscribe","topics":"room"}',
      '{"type":"subscribe","topics":{"length":5}}', '{"type":"publish"}', '{"type":"publish","topic":7,"data":1}',
      '{"type":"publish","topic":"","data":1}', '{"type":"__proto__"}',
      JSON.stringify({ type: "subscribe", topics: ["x".repeat(600)] }), JSON.stringify({ type: "subscribe", topics: Array.from({ length: 100 }, (_, i) => `t${i}`) }),
      new Uint8Array([0x7b, 0x7d]), "{".repeat(10_000),
    ];
    for (const f of frames) {
      h.send(f);
      const reply = await h.next();
      expect(reply.type).toBe("error");
      expect(typeof reply.message).toBe("string");
    }
    // Entries that are not strings are skipped, as the reference does; the strings subscribe.
    await subscribe(h, [null, 3, "hostile-2"] as unknown as string[]);
    publish(h, "hostile-2", 1);
    expect((await h.next()).clients).toBe(1);
    // Past the frame cap: an error; past twice the cap: closed as Bun closes any oversized frame.
    h.send(JSON.stringify({ type: "publish", topic: "hostile", data: "x".repeat(70_000) }));
    expect((await h.next()).message).toMatch(/too large/);
    h.send(JSON.stringify({ type: "publish", topic: "hostile", data: "x".repeat(140_000) }));
    expect((await h.closed).code).toBe(1009);
    await nothingBeforePong(bystander);
    bystander.close();
  });

  test("topics per socket and subscribers per topic are bounded", async () => {
    const small = startServer({ yWebrtcMaxTopicsPerSocket: 2, yWebrtcMaxSubscribers: 2 });
    try {
      const u = yUrl(small.url);
      const s = await ySubscriber(u, ["a", "b"]);
      s.send({ type: "subscribe", topics: ["c"] });
      expect((await s.next()).message).toBe("too many topics for one socket (limit 2)");
      s.send({ type: "subscribe", topics: ["c", "d", "e"] }); // more than that in one message
      expect((await s.next()).message).toMatch(/too many topics in one message/);
      const t = await ySubscriber(u, ["a"]);
      const full = await TestSocket.open(u);
      full.send({ type: "subscribe", topics: ["a"] });
      expect((await full.next()).message).toMatch(/topic is full/);
      publish(full, "a", 1);
      expect((await full.next()).type).toBe("error");
      publish(t, "a", 1);
      expect((await t.next()).clients).toBe(2);
      expect((await s.next()).clients).toBe(2);
      const metrics = await (await fetch(`${small.url}/metrics`)).text();
      expect(metrics).toContain('gemmapod_signal_ywebrtc_refusals_total{reason="topics_per_socket"} 1');
      expect(metrics).toContain('gemmapod_signal_ywebrtc_refusals_total{reason="subscribers_per_topic"} 1');
      expect(metrics).toContain("gemmapod_signal_ywebrtc_topics 2");
      for (const x of [s, t, full]) x.close();
      // Empty topics are freed once the server hears the closes.
      await until("the topics are freed", async () => value(await scrape(small.url), "gemmapod_signal_ywebrtc_topics") === 0);
    } finally {
      await small.close();
    }
  });

  test("metrics count publishes, fan-out messages and bytes, and connections", async () => {
    const m = await TestSocket.open(url);
    await subscribe(m, ["metered"]);
    const n = await ySubscriber(url, ["metered"]);
    const before = await (await fetch(`${srv.url}/metrics`)).text();
    publish(m, "metered", "abc");
    await m.next();
    await n.next();
    const after = await (await fetch(`${srv.url}/metrics`)).text();
    const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1]);
    const sent = '{"type":"publish","topic":"metered","data":"abc","clients":2}';
    expect(value(after, "gemmapod_signal_ywebrtc_publishes_total") - value(before, "gemmapod_signal_ywebrtc_publishes_total")).toBe(1);
    expect(value(after, "gemmapod_signal_ywebrtc_fanout_messages_total") - value(before, "gemmapod_signal_ywebrtc_fanout_messages_total")).toBe(2);
    expect(value(after, "gemmapod_signal_ywebrtc_fanout_bytes_total") - value(before, "gemmapod_signal_ywebrtc_fanout_bytes_total")).toBe(2 * sent.length);
    expect(after).toMatch(/gemmapod_signal_connections\{kind="y-webrtc"\} [1-9]/);
    m.close();
    n.close();
  });
});

describe("access and placement", () => {
  test("--y-webrtc-token requires ?token= with one of the tokens", async () => {
    const tokens = ["first-token-0123456789", "second-token-0123456789"];
    const lines: string[] = [];
    const guarded = startServer({ yWebrtcTokens: tokens, logLevel: "debug", logger: new Logger({ level: "debug", format: "json", write: (l) => lines.push(l) }) });
    try {
      const u = yUrl(guarded.url);
      for (const bad of ["", "?token=", "?token=first-token-012345678", "?token=nope"]) {
        const res = await fetch(`${guarded.url}/y-webrtc${bad}`, { headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" } });
        expect(res.status).toBe(401);
      }
      for (const token of tokens) {
        const s = await TestSocket.open(`${u}?token=${token}`);
        s.send({ type: "ping" });
        expect((await s.next()).type).toBe("pong");
        s.close();
      }
      expect(await (await fetch(`${guarded.url}/metrics`)).text()).toContain('gemmapod_signal_ywebrtc_refusals_total{reason="token"} 4');
      // Each upgrade was logged, by path: no token, right or wrong, appears.
      await until("every upgrade is logged", () => lines.filter((l) => l.includes("/y-webrtc")).length >= 6);
      for (const t of [...tokens, "first-token-012345678", "nope"]) expect(lines.join("\n")).not.toContain(t);
    } finally {
      await guarded.close();
    }
  });

  test("--y-webrtc-path moves it, off disables it", async () => {
    const moved = startServer({ yWebrtcPath: "/yjs/signal" });
    const off = startServer({ yWebrtcPath: null });
    try {
      const s = await TestSocket.open(yUrl(moved.url, "/yjs/signal"));
      s.send({ type: "ping" });
      expect((await s.next()).type).toBe("pong");
      s.close();
      await expect(TestSocket.open(yUrl(moved.url))).rejects.toThrow();
      await expect(TestSocket.open(yUrl(off.url))).rejects.toThrow();
    } finally {
      await moved.close();
      await off.close();
    }
  });
});
