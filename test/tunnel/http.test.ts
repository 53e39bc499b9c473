// Visitors → broker → tunnel client → a real local server, all real, on loopback.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { tunnelled, type Tunnelled } from "./harness.ts";
import { until } from "../helpers/until.ts";
import { digest, randomBytes, randomStream, sha256 as sha, type Digest } from "../helpers/random-body.ts";

/** Resolvers the local server's slow routes wait on, so tests decide when it goes on. */
const gates = new Map<string, { open: () => void; opened: Promise<void> }>();
function gate(name: string) {
  let g = gates.get(name);
  if (!g) {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    gates.set(name, (g = { open, opened }));
  }
  return g;
}
const events: string[] = [];
/** What the local server's streamed routes sent, by the `id` the test gave. */
const sent = new Map<string, Promise<Digest>>();
const big = randomBytes(20 * 1024 * 1024);

let t: Tunnelled;
beforeAll(async () => {
  t = await tunnelled(async (req) => {
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/echo":
        return new Response(req.body ? await req.arrayBuffer() : null, { headers: { "content-type": req.headers.get("content-type") ?? "application/octet-stream", "x-method": req.method } });
      case "/headers":
        return Response.json(Object.fromEntries(req.headers));
      case "/bad-headers":
        return new Response("x", {
          headers: [
            ["set-cookie", "sid=1"], ["clear-site-data", '"*"'], ["service-worker-allowed", "/"], ["strict-transport-security", "max-age=1"],
            ["alt-svc", 'h3=":443"'], ["content-security-policy", "default-src *"], ["x-kept", "yes"], ["connection", "x-hop"], ["x-hop", "1"],
          ],
        });
      case "/big":
        return new Response(big);
      case "/stream": {
        // Random pieces of `size` bytes; `tick` puts a loop turn between them (an unbuffered local server).
        const { stream, sent: digest } = randomStream(Number(url.searchParams.get("n")), Number(url.searchParams.get("size")));
        sent.set(url.searchParams.get("id")!, digest);
        if (!url.searchParams.has("tick")) return new Response(stream);
        const reader = stream.getReader();
        return new Response(new ReadableStream({ pull: async (c) => { await Bun.sleep(0); const { done, value } = await reader.read(); done ? c.close() : c.enqueue(value); } }));
      }
      case "/hash":
        return new Response(sha(await req.arrayBuffer()));
      case "/delay": {
        const ms = Number(url.searchParams.get("ms"));
        await Bun.sleep(ms);
        return new Response(String(url.searchParams.get("n")));
      }
      case "/sse": {
        const g = gate(url.searchParams.get("g")!);
        return new Response(
          new ReadableStream({
            async start(c) {
              c.enqueue(new TextEncoder().encode("data: first\n\n"));
              await g.opened;
              events.push("second sent");
              c.enqueue(new TextEncoder().encode("data: second\n\n"));
              c.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      case "/upload-progress": {
        // Answers as soon as the first bytes arrive, before the visitor sent the rest.
        const reader = req.body!.getReader();
        const first = await reader.read();
        events.push(`first ${first.value?.byteLength}`);
        gate(url.searchParams.get("g")!).open();
        const hash = new Bun.CryptoHasher("sha256").update(first.value!);
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          hash.update(value);
        }
        return new Response(hash.digest("hex"));
      }
      case "/hang":
        events.push("hang started");
        req.signal.addEventListener("abort", () => events.push("hang aborted"));
        await gate(url.searchParams.get("g")!).opened;
        return new Response("late");
      case "/ticks": {
        let n = 0;
        let timer: Timer;
        return new Response(
          new ReadableStream({
            start: (c) => void (timer = setInterval(() => c.enqueue(new TextEncoder().encode(`data: ${n++}\n\n`)), 5)),
            cancel: () => (clearInterval(timer), events.push("ticks cancelled")),
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      case "/status":
        return new Response(null, { status: Number(url.searchParams.get("s")) });
      default:
        return new Response(`path ${url.pathname}${url.search}`);
    }
  });
});
afterAll(() => t?.close());

test("a request reaches the local server with its path and query, and the answer comes back", async () => {
  const r = await fetch(`${t.url}/some/where?x=1&y=%20two`);
  expect(r.status).toBe(200);
  expect(await r.text()).toBe("path /some/where?x=1&y=%20two");
});

test("/tunnel/<name> redirects 308 to /tunnel/<name>/, query kept", async () => {
  const r = await fetch(`${t.url}?a=b`, { redirect: "manual" });
  expect(r.status).toBe(308);
  expect(r.headers.get("location")).toBe(`/tunnel/${t.name}/?a=b`);
});

test("a tunnel with no client is 502 JSON; an invalid name is 404", async () => {
  const r = await fetch(`${t.broker.url}/tunnel/nobody-here/`);
  expect(r.status).toBe(502);
  expect((await r.json()).error).toContain("no tunnel client");
  expect((await fetch(`${t.broker.url}/tunnel/Bad_Name/`)).status).toBe(404);
});

test("statuses pass through, bodiless ones too", async () => {
  for (const s of [201, 204, 304, 404, 418, 500, 503]) {
    const r = await fetch(`${t.url}/status?s=${s}`);
    expect(r.status).toBe(s);
    await r.arrayBuffer();
  }
});

test.each([
  ["binary", "application/octet-stream", randomBytes(300_000)],
  ["text that is not valid UTF-8", "text/plain", new Uint8Array([0x68, 0x69, 0xff, 0xfe, 0xc3, 0x28, 0x00, 0x80])],
  ["JSON exactly as sent", "application/json", new TextEncoder().encode('{ "b":1,  "a" : [1.0, 2e3], "a":"dup" , "s":"\\u00e9"}')],
  ["empty", "text/plain", new Uint8Array(0)],
])("bodies are byte-exact both ways: %s", async (_name, type, body) => {
  const r = await fetch(`${t.url}/echo`, { method: "POST", body, headers: { "content-type": type } });
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe(type);
  expect(sha(await r.arrayBuffer())).toBe(sha(body));
});

test("a 20 MB binary body goes up and comes down byte-identical", async () => {
  const up = await fetch(`${t.url}/hash`, { method: "POST", body: big });
  expect(await up.text()).toBe(sha(big));
  const down = await fetch(`${t.url}/big`);
  expect(sha(await down.arrayBuffer())).toBe(sha(big));
});

test("a 400 MB download of random 64 KiB pieces arrives byte-identical on the default flags", async () => {
  const res = await fetch(`${t.url}/stream?id=400mb&n=6400&size=65536`);
  const got = await digest(res.body!);
  expect(got).toEqual(await sent.get("400mb")!);
  expect(got.bytes).toBe(400 * 1024 * 1024);
}, 60_000);

test("a local server writing 20 MB a kilobyte at a time is served whole and in order on the default flags", async () => {
  const res = await fetch(`${t.url}/stream?id=trickle&n=20000&size=1000&tick`);
  const got = await digest(res.body!);
  expect(got).toEqual(await sent.get("trickle")!);
  expect(got.bytes).toBe(20_000 * 1000);
}, 30_000);

test("a streamed request body reaches the local server before the visitor has sent all of it", async () => {
  const g = gate("upload");
  let sentSecond = false;
  const [first, second] = [randomBytes(1000), randomBytes(500)];
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      c.enqueue(first);
      await g.opened; // the local server saw the first chunk
      sentSecond = true;
      c.enqueue(second);
      c.close();
    },
  });
  const r = await fetch(`${t.url}/upload-progress?g=upload`, { method: "POST", body, duplex: "half" } as RequestInit);
  expect(await r.text()).toBe(sha(Buffer.concat([first, second])));
  expect(sentSecond).toBe(true);
  expect(events).toContain("first 1000");
});

test("50 concurrent requests are answered out of order, each with its own answer", async () => {
  const order: number[] = [];
  const results = await Promise.all(
    Array.from({ length: 50 }, async (_, n) => {
      const r = await fetch(`${t.url}/delay?n=${n}&ms=${(50 - n) * 8}`);
      const text = await r.text();
      order.push(n);
      return text;
    }),
  );
  expect(results).toEqual(Array.from({ length: 50 }, (_, n) => String(n)));
  expect(order[0]).toBeGreaterThan(40); // the shortest delays finished first
});

test("an SSE response's first event reaches the visitor before the local server sends the second", async () => {
  const r = await fetch(`${t.url}/sse?g=sse`);
  expect(r.headers.get("content-type")).toBe("text/event-stream");
  const reader = r.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  expect(first).toBe("data: first\n\n");
  expect(events).not.toContain("second sent");
  gate("sse").open();
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += new TextDecoder().decode(value);
  }
  expect(rest).toBe("data: second\n\n");
});

test("header rules: origin-wide and hop-by-hop response headers dropped, sandbox CSP added", async () => {
  const r = await fetch(`${t.url}/bad-headers`);
  expect(r.headers.get("content-security-policy")).toBe("sandbox allow-scripts allow-forms allow-popups");
  for (const h of ["set-cookie", "clear-site-data", "service-worker-allowed", "strict-transport-security", "alt-svc", "x-hop"]) expect(r.headers.get(h)).toBeNull();
  expect(r.headers.get("x-kept")).toBe("yes");
});

test("header rules: Cookie and Authorization are not forwarded; X-Forwarded-* are the broker's", async () => {
  const r = await fetch(`${t.url}/headers`, {
    headers: { cookie: "sid=secret", authorization: "Bearer secret", "x-forwarded-for": "6.6.6.6", "x-forwarded-host": "evil", "x-forwarded-proto": "gopher", "x-custom": "kept" },
  });
  const seen = await r.json();
  expect(seen.cookie).toBeUndefined();
  expect(seen.authorization).toBeUndefined();
  expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
  expect(seen["x-forwarded-host"]).toBe(new URL(t.broker.url).host);
  expect(seen["x-forwarded-proto"]).toBe("http");
  expect(seen["x-custom"]).toBe("kept");
});

test("a visitor who goes away cancels the request at the client and frees it", async () => {
  const controller = new AbortController();
  const pending = fetch(`${t.url}/hang?g=hang`, { signal: controller.signal }).catch((e) => e);
  await until("the request reaches the local server", () => events.includes("hang started"));
  controller.abort();
  await pending;
  // The tunnel client heard the cancel and aborted its request to the local server.
  await until("the local request is aborted", () => events.includes("hang aborted"));
  gate("hang").open();
  expect((await fetch(`${t.url}/`)).status).toBe(200);
});

test("60 event streams whose visitors all leave at once do not cost the tunnel its connection", async () => {
  const controllers = Array.from({ length: 60 }, () => new AbortController());
  const readers = await Promise.all(controllers.map(async (c) => (await fetch(`${t.url}/ticks`, { signal: c.signal })).body!.getReader()));
  // Two ticks each: the local server is ticking into all of them when they leave.
  for (let i = 0; i < 2; i++) await Promise.all(readers.map((r) => r.read()));
  for (const c of controllers) c.abort();
  // Every cancel crossed the tunnel and reached the local server; then the tunnel still serves.
  await until("all 60 streams cancelled at the local server", () => events.filter((e) => e === "ticks cancelled").length === 60);
  const after = await fetch(`${t.url}/still-there`);
  expect(await after.text()).toBe("path /still-there");
});
