// The console over plain HTTP: its policy, a page that carries the numbers
// without script, the live event stream and its bounds, the origin look-up, and
// the routes that were there before it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { enterRoom } from "../helpers/peers.ts";
import { buildPod } from "../helpers/pods.ts";
import { startServer, withServer, type TestServer } from "../helpers/server.ts";
import { offeringVisitor, registeredOrigin } from "../helpers/ws-client.ts";
import { until } from "../helpers/until.ts";

let srv: TestServer;
beforeAll(() => {
  srv = startServer();
});
afterAll(() => srv?.close());

/** Reads an event stream until `match` accepts one of its events' data. */
async function nextEvent(body: ReadableStream<Uint8Array>, match: (data: any) => boolean, ms = 4000): Promise<any> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const deadline = Date.now() + ms;
  try {
    while (Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => null)]);
      if (!chunk || chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffered.indexOf("\n\n")) !== -1) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = /^data: (.*)$/m.exec(event)?.[1];
        if (data !== undefined && match(JSON.parse(data))) return JSON.parse(data);
      }
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`no matching event within ${ms} ms`);
}

const dd = (html: string, key: string) => new RegExp(`<dd data-field="${key}">([^<]*)</dd>`).exec(html)?.[1];

describe("the page", () => {
  test("has a strict CSP of its own and no inline script or style", async () => {
    const res = await fetch(`${srv.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp.split("; ")).toContain("default-src 'self'");
    expect(csp).not.toContain("unsafe");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/console\/assets\/[^"]+\.js"/);
      expect(body!.trim()).toBe("");
    }
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|javascript:/i);
    expect(html).not.toContain("{{");
    expect(html).toContain('data-max-bytes="52428800">Up to 50.0 MiB');
  });

  test("serves its built script and stylesheet with their types, cached for good", async () => {
    const html = await (await fetch(`${srv.url}/`)).text();
    const paths = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    const types = await Promise.all(paths.map(async (path) => {
      const res = await fetch(srv.url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toContain("immutable");
      const again = await fetch(srv.url + path, { headers: { "If-None-Match": res.headers.get("etag")! } });
      expect(again.status).toBe(304);
      return res.headers.get("content-type")!.split(";")[0];
    }));
    expect(types.sort()).toEqual(["image/svg+xml", "text/css", "text/javascript"]);
    const missing = await fetch(`${srv.url}/console/assets/chunk-nothere.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "not found" });
  });

  test("carries the current numbers in its HTML, readable without JavaScript", async () => {
    await withServer({}, async (s) => {
      const first = await (await fetch(`${s.url}/`)).text();
      expect([dd(first, "origins"), dd(first, "pods"), dd(first, "registry")]).toEqual(["0", "0", "memory"]);
      const pod = buildPod({ podId: "console-http-pod" });
      expect((await fetch(`${s.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } })).status).toBe(200);
      const origin = await registeredOrigin(s.wsUrl, "console-http-pod");
      let html = "";
      await until("the page counts the origin", async () => dd((html = await (await fetch(`${s.url}/`)).text()), "origins") === "1");
      expect([dd(html, "origins"), dd(html, "pods")]).toEqual(["1", "1"]);
      expect(html).toContain('<li class="none">No warnings.</li>');
      origin.close();
    });
  });
});

describe("live events", () => {
  test("count the peers in /.webrtc rooms and their rooms", async () => {
    await withServer({}, async (s) => {
      const inRooms = await Promise.all([enterRoom(s, "console-a"), enterRoom(s, "console-a"), enterRoom(s, "console-b")]);
      const res = await fetch(`${s.url}/console/events`);
      expect(await nextEvent(res.body!, (e) => e.peers === 3)).toMatchObject({ peers: 3, rooms: 2 });
      await res.body!.cancel();
      for (const p of inRooms) p.socket.close();
    });
  });

  test("stream the status each second, following a session as it starts", async () => {
    await withServer({}, async (s) => {
      const res = await fetch(`${s.url}/console/events`);
      expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      const body = res.body!;
      const initial = await nextEvent(body, () => true);
      expect(initial).toMatchObject({ origins: 0, sessions: 0, sessionsStarted: 0, peers: 0, rooms: 0, tunnels: 0, pods: 0, warnings: [], registry: "memory" });
      const origin = await registeredOrigin(s.wsUrl, "events-pod");
      const visitor = await offeringVisitor(s.wsUrl, origin, "events-pod", "events-session");
      const live = await nextEvent(body, (e) => e.sessionsStarted === 1);
      expect(live).toMatchObject({ origins: 1, sessions: 1 });
      // The started session shows in the per-second history the sparkline draws.
      const later = await nextEvent(body, (e) => e.sessionsPerSecond.includes(1));
      expect(later.sessionsPerSecond.reduce((a: number, b: number) => a + b, 0)).toBe(1);
      visitor.close();
      origin.close();
      await body.cancel();
    });
  });

  test("are refused past the viewer limit, and a freed place can be taken again", async () => {
    await withServer({ consoleMaxViewers: 3 }, async (s) => {
      const controllers = [new AbortController(), new AbortController(), new AbortController()];
      const open = await Promise.all(controllers.map((c) => fetch(`${s.url}/console/events`, { signal: c.signal })));
      expect(open.map((r) => r.status)).toEqual([200, 200, 200]);
      const refused = await fetch(`${s.url}/console/events`);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("30");
      expect((await refused.json()).error).toContain("too many live consoles");
      // The page itself still renders for everyone.
      expect((await fetch(`${s.url}/`)).status).toBe(200);

      controllers[0]!.abort();
      let again: Response | undefined;
      await until("a viewer's seat frees up", async () => {
        await again?.body?.cancel();
        again = await fetch(`${s.url}/console/events`);
        return again.status === 200;
      });
      expect(again!.status).toBe(200);
      await again!.body!.cancel();
      for (const c of controllers) c.abort();
    });
  });

  test("allow several tabs from one address but not a flood of them", async () => {
    await withServer({ consoleMaxViewers: 50 }, async (s) => {
      const tabs = await Promise.all(Array.from({ length: 10 }, () => fetch(`${s.url}/console/events`)));
      expect(tabs.every((r) => r.status === 200)).toBe(true);
      const eleventh = await fetch(`${s.url}/console/events`);
      expect(eleventh.status).toBe(429);
      expect((await eleventh.json()).error).toBe("too many live consoles from this address (limit 10)");
      await Promise.all(tabs.map((r) => r.body!.cancel()));
    });
  });

  test("end when the server shuts down", async () => {
    const s = startServer();
    const res = await fetch(`${s.url}/console/events`);
    const reader = res.body!.getReader();
    await reader.read();
    const closing = s.close();
    const outcome = await Promise.race([
      (async () => {
        for (;;) {
          const chunk = await reader.read().catch(() => ({ done: true }));
          if (chunk.done) return "ended";
        }
      })(),
      Bun.sleep(3000).then(() => "still open"),
    ]);
    expect(outcome).toBe("ended");
    await closing;
  });
});

describe("pod look-up", () => {
  test("tells whether a stored pod's origin is online, by the pod ids its manifest names", async () => {
    const pod = buildPod({ podId: "lookup-online-pod" });
    const { id } = await (await fetch(`${srv.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } })).json();
    const check = async () => (await fetch(`${srv.url}/console/api/pods/${id}/online`)).json();
    expect(await check()).toMatchObject({ id, online: false });
    const origin = await registeredOrigin(srv.wsUrl, "lookup-online-pod");
    const online = await check();
    expect(online.online).toBe(true);
    expect(online.podIds).toContainEqual({ podId: "lookup-online-pod", online: true });
    expect(online.podIds).toContainEqual({ podId: id, online: false });
    origin.close();
  });

  test("answers 404 JSON for an unknown id and leaves other paths alone", async () => {
    const res = await fetch(`${srv.url}/console/api/pods/AAAAAAAAAAAA/online`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "pod not found" });
    expect((await fetch(`${srv.url}/console/api/pods/short/online`)).status).toBe(404);
  });
});

test("the routes that were there before are unchanged", async () => {
  expect(await (await fetch(`${srv.url}/health`)).json()).toMatchObject({ ok: true, registry: "memory" });
  const missing = await fetch(`${srv.url}/AAAAAAAAAAAA`);
  expect(missing.status).toBe(404);
  expect(await missing.json()).toEqual({ error: "pod not found" });
  expect((await fetch(`${srv.url}/console`)).status).toBe(404);
  expect((await fetch(`${srv.url}/rondevu/`)).status).toBe(200);
  expect((await fetch(`${srv.url}/signal`)).status).toBe(426);
});
