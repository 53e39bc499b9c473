import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SqliteRegistry } from "../../src/registry/sqlite.ts";
import { startServer, tempDir, type TestServer } from "../helpers/server.ts";
import { available, newSpot, storageServices } from "../helpers/storage.ts";

type Json = Record<string, any>;

function api(base: string, origin?: string) {
  const headers = (body: boolean): Record<string, string> => ({ ...(body ? { "Content-Type": "application/json" } : {}), ...(origin ? { Origin: origin } : {}) });
  return {
    get: (path: string) => fetch(`${base}${path}`, { headers: headers(false) }),
    post: (path: string, body: unknown) => fetch(`${base}${path}`, { method: "POST", headers: headers(true), body: typeof body === "string" ? body : JSON.stringify(body) }),
  };
}

async function expectError(res: Response, status: number, error: string | RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = await res.json();
  typeof error === "string" ? expect(body.error).toBe(error) : expect(body.error).toMatch(error);
}

const services = await storageServices();

for (const kind of ["memory", "sqlite", "postgres+files"] as const) {
  describe.skipIf(!available(kind, services))(`Rondevu API (${kind} store)`, () => {
    let srv: TestServer;
    let base: string;
    const app = () => api(base, "https://app.example");

    beforeAll(async () => {
      const registry = await (await newSpot(kind, services)).open();
      srv = startServer({ registry, rondevuMaxCandidates: 200, rondevuMaxSessionsPerTopic: 5, rondevuRate: 100_000 });
      base = `${srv.url}/rondevu`;
    });
    afterAll(() => srv.close());

    test("health", async () => {
      const body = await (await app().get("/health")).json();
      expect(body.status).toBe("ok");
      expect(Math.abs(body.timestamp - Date.now())).toBeLessThan(5000);
    });

    test("offer, discover, answer and poll both ways", async () => {
      const offered = await (await app().post("/chess/offer", { info: "alice", offer: "offer-sdp" })).json();
      expect(offered.code).toMatch(/^[0-9a-f-]{36}$/);
      const { sessions } = await (await app().get("/chess/sessions")).json();
      expect(sessions).toEqual([{ code: offered.code, info: "alice", offer: "offer-sdp", offerCandidates: [], createdAt: expect.any(Number), expiresAt: expect.any(Number) }]);
      expect(sessions[0].expiresAt - sessions[0].createdAt).toBe(300_000);

      expect(await (await app().post("/answer", { code: offered.code, side: "offerer", candidate: "oc1" })).json()).toEqual({ success: true });
      expect(await (await app().post("/poll", { code: offered.code, side: "answerer" })).json()).toEqual({ offer: "offer-sdp", offerCandidates: ["oc1"], candidateCount: 1 });
      expect(await (await app().post("/poll", { code: offered.code, side: "offerer" })).json()).toEqual({ answer: null, answerCandidates: [], candidateCount: 0 });

      expect((await app().post("/answer", { code: offered.code, side: "answerer", answer: "answer-sdp" })).status).toBe(200);
      await app().post("/answer", { code: offered.code, side: "answerer", candidate: "ac1" });
      expect(await (await app().post("/poll", { code: offered.code, side: "offerer" })).json()).toEqual({ answer: "answer-sdp", answerCandidates: ["ac1"], candidateCount: 1 });
      // Answered sessions leave the listings but can still be polled.
      expect((await (await app().get("/chess/sessions")).json()).sessions).toEqual([]);
      expect((await app().post("/poll", { code: offered.code, side: "answerer" })).status).toBe(200);
    });

    test("topics are listed per origin, sorted, paginated", async () => {
      const o = api(base, "https://topics.example");
      for (const t of ["b-topic", "a-topic", "a-topic", "c topic/x"]) await o.post(`/${encodeURIComponent(t)}/offer`, { info: "i", offer: "o" });
      const all = await (await o.get("/")).json();
      expect(all).toEqual({ topics: [{ topic: "a-topic", count: 2 }, { topic: "b-topic", count: 1 }, { topic: "c topic/x", count: 1 }], pagination: { page: 1, limit: 100, total: 3, hasMore: false } });
      expect(await (await o.get("/?page=2&limit=2")).json()).toEqual({ topics: [{ topic: "c topic/x", count: 1 }], pagination: { page: 2, limit: 2, total: 3, hasMore: false } });
      expect((await (await o.get("/?page=1&limit=2")).json()).pagination.hasMore).toBe(true);
      for (const q of ["?page=x", "?limit=abc", "?page=0", "?limit=0", "?limit=1001", "?page=-1"]) await expectError(await o.get(`/${q}`), 400, /must be an integer/);
    });

    test("sessions are isolated by Origin; missing Origin is its own bucket", async () => {
      const a = api(base, "https://a.example");
      const b = api(base, "https://b.example");
      const none = api(base);
      const { code } = await (await a.post("/iso/offer", { info: "i", offer: "o" })).json();
      await none.post("/iso/offer", { info: "anon", offer: "o" });
      expect((await (await a.get("/iso/sessions")).json()).sessions).toHaveLength(1);
      expect((await (await b.get("/iso/sessions")).json()).sessions).toHaveLength(0);
      expect((await (await none.get("/iso/sessions")).json()).sessions[0].info).toBe("anon");
      await expectError(await b.post("/poll", { code, side: "answerer" }), 404, "Session not found, expired, or origin mismatch");
      await expectError(await b.post("/answer", { code, side: "answerer", answer: "x" }), 404, "Session not found, expired, or origin mismatch");
    });

    test("newest first", async () => {
      const o = api(base, "https://order.example");
      const first = await (await o.post("/order/offer", { info: "1", offer: "o" })).json();
      await Bun.sleep(5);
      const second = await (await o.post("/order/offer", { info: "2", offer: "o" })).json();
      const { sessions } = await (await o.get("/order/sessions")).json();
      expect(sessions.map((s: Json) => s.code)).toEqual([second.code, first.code]);
    });

    test("offer validation messages, in order", async () => {
      await expectError(await app().post(`/${"t".repeat(257)}/offer`, { offer: "o" }), 400, "Topic string must be 256 characters or less");
      await expectError(await app().post("/t/offer", { offer: "o" }), 400, "Missing or invalid required parameter: info");
      await expectError(await app().post("/t/offer", { info: 5, offer: "o" }), 400, "Missing or invalid required parameter: info");
      await expectError(await app().post("/t/offer", { info: "i".repeat(1025), offer: "o" }), 400, "Info string must be 1024 characters or less");
      await expectError(await app().post("/t/offer", { info: "i" }), 400, "Missing or invalid required parameter: offer");
      await expectError(await app().post("/t/offer", { info: "i", offer: "" }), 400, "Missing or invalid required parameter: offer");
      await expectError(await app().post("/t/offer", "{not json"), 400, "Invalid JSON body");
      await expectError(await app().post("/t/offer", "[1]"), 400, "JSON body must be an object");
      await expectError(await app().post("/t/offer", { info: "i", offer: "x".repeat(64 * 1024 + 1) }), 413, /offer too large/);
    });

    test("text every store can hold: NUL and lone surrogates are 400s, nothing stored", async () => {
      const bad = /must be text without NUL characters or lone surrogates/;
      await expectError(await app().post("/nul%00topic/offer", { info: "i", offer: "o" }), 400, bad);
      await expectError(await app().post("/t/offer", { info: "a\u0000b", offer: "o" }), 400, bad);
      await expectError(await app().post("/t/offer", '{"info":"i","offer":"\\ud800"}'), 400, bad);
      const { code } = await (await app().post("/text/offer", { info: "i", offer: "o" })).json();
      await expectError(await app().post("/answer", { code, side: "answerer", candidate: "c\u0000" }), 400, bad);
      await expectError(await app().post("/answer", { code, side: "answerer", answer: "\udc00a" }), 400, bad);
      await expectError(await app().post("/poll", { code: "x\u0000", side: "offerer" }), 400, bad);
      expect(await (await app().post("/poll", { code, side: "offerer" })).json()).toEqual({ answer: null, answerCandidates: [], candidateCount: 0 });
      await expectError(await app().get("/nul%00topic/sessions"), 400, bad);
    });

    test("answer and poll validation", async () => {
      const { code } = await (await app().post("/val/offer", { info: "i", offer: "o" })).json();
      await expectError(await app().post("/answer", { code, side: "answerer" }), 400, "Missing required parameter: answer or candidate");
      await expectError(await app().post("/answer", { code, side: "answerer", answer: "a", candidate: "c" }), 400, "Cannot provide both answer and candidate");
      await expectError(await app().post("/answer", { code, side: "answerer", answer: 5 }), 400, /answer must be/);
      await expectError(await app().post("/answer", { code, side: "answerer", candidate: {} }), 400, /candidate must be/);
      await expectError(await app().post("/answer", { code, side: "middle", answer: "a" }), 400, /side/);
      await expectError(await app().post("/answer", { side: "answerer", answer: "a" }), 400, /code/);
      await expectError(await app().post("/answer", { code: crypto.randomUUID(), side: "answerer", answer: "a" }), 404, "Session not found, expired, or origin mismatch");
      await expectError(await app().post("/poll", { code }), 400, /side/);
      await expectError(await app().post("/poll", { code, side: "offerer", since: -1 }), 400, /since/);
      await expectError(await app().post("/poll", { code, side: "offerer", wait: 31 }), 400, /wait/);
      await expectError(await app().post("/poll", { code, side: "offerer", wait: "5" }), 400, /wait/);
    });

    test("the first answer wins; the same answer again is fine", async () => {
      const { code } = await (await app().post("/race/offer", { info: "i", offer: "o" })).json();
      expect((await app().post("/answer", { code, side: "answerer", answer: "first" })).status).toBe(200);
      expect((await app().post("/answer", { code, side: "answerer", answer: "first" })).status).toBe(200);
      await expectError(await app().post("/answer", { code, side: "answerer", answer: "second" }), 409, "Session already answered");
      expect((await (await app().post("/poll", { code, side: "offerer" })).json()).answer).toBe("first");
    });

    test("100 concurrent candidate appends: none lost", async () => {
      const { code } = await (await app().post("/burst/offer", { info: "i", offer: "o" })).json();
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => app().post("/answer", { code, side: "offerer", candidate: `c${i}` })));
      expect(results.every((r) => r.status === 200)).toBe(true);
      const { offerCandidates } = await (await app().post("/poll", { code, side: "answerer" })).json();
      expect(offerCandidates).toHaveLength(100);
      expect(new Set(offerCandidates).size).toBe(100);
    });

    test("concurrent appends past the bound: exactly the bound gets in", async () => {
      const { code } = await (await app().post("/race/offer", { info: "i", offer: "o" })).json();
      const results = await Promise.all(Array.from({ length: 230 }, (_, i) => app().post("/answer", { code, side: "answerer", candidate: `a${i}` })));
      expect(results.filter((r) => r.status === 200)).toHaveLength(200);
      expect(results.filter((r) => r.status === 413)).toHaveLength(30);
      const { answerCandidates } = await (await app().post("/poll", { code, side: "offerer" })).json();
      expect(new Set(answerCandidates).size).toBe(200);
    });

    test("candidates per side are bounded", async () => {
      const small = startServer({ rondevuMaxCandidates: 3 });
      try {
        const s = api(`${small.url}/rondevu`);
        const { code } = await (await s.post("/cap/offer", { info: "i", offer: "o" })).json();
        for (let i = 0; i < 3; i++) expect((await s.post("/answer", { code, side: "offerer", candidate: `c${i}` })).status).toBe(200);
        await expectError(await s.post("/answer", { code, side: "offerer", candidate: "c4" }), 413, /Too many candidates/);
        expect((await s.post("/answer", { code, side: "answerer", candidate: "a1" })).status).toBe(200);
      } finally {
        await small.close();
      }
    });

    test("live sessions per origin and topic are bounded", async () => {
      const o = api(base, "https://cap.example");
      for (let i = 0; i < 5; i++) expect((await o.post("/full/offer", { info: "i", offer: "o" })).status).toBe(200);
      await expectError(await o.post("/full/offer", { info: "i", offer: "o" }), 429, /Too many live sessions/);
      expect((await o.post("/other/offer", { info: "i", offer: "o" })).status).toBe(200);
    });

    test("incremental polling with since", async () => {
      const { code } = await (await app().post("/inc/offer", { info: "i", offer: "o" })).json();
      for (const c of ["a", "b", "c"]) await app().post("/answer", { code, side: "offerer", candidate: c });
      const first = await (await app().post("/poll", { code, side: "answerer", since: 0 })).json();
      expect(first).toMatchObject({ offerCandidates: ["a", "b", "c"], candidateCount: 3 });
      await app().post("/answer", { code, side: "offerer", candidate: "d" });
      expect(await (await app().post("/poll", { code, side: "answerer", since: first.candidateCount })).json()).toMatchObject({ offerCandidates: ["d"], candidateCount: 4 });
    });

    test("a long poll wakes up on the answer, not before, and not on its own candidates", async () => {
      const { code } = await (await app().post("/long/offer", { info: "i", offer: "o" })).json();
      const started = performance.now();
      const polling = app().post("/poll", { code, side: "offerer", since: 0, wait: 10 }).then((r) => r.json());
      await Bun.sleep(150);
      await app().post("/answer", { code, side: "offerer", candidate: "mine" }); // the offerer's own: no news for it
      await Bun.sleep(150);
      await app().post("/answer", { code, side: "answerer", answer: "late-answer" });
      const body = await polling;
      const elapsed = performance.now() - started;
      expect(body).toEqual({ answer: "late-answer", answerCandidates: [], candidateCount: 0 });
      expect(elapsed).toBeGreaterThan(250);
      expect(elapsed).toBeLessThan(5000);
    });

    test("a long poll with nothing new returns after its wait", async () => {
      const { code } = await (await app().post("/idle/offer", { info: "i", offer: "o" })).json();
      const started = performance.now();
      const body = await (await app().post("/poll", { code, side: "offerer", since: 0, wait: 0.3 })).json();
      expect(performance.now() - started).toBeGreaterThan(250);
      expect(body).toEqual({ answer: null, answerCandidates: [], candidateCount: 0 });
    });

    test("leave needs the offerer's secret", async () => {
      const { code, secret } = await (await app().post("/bye/offer", { info: "i", offer: "o" })).json();
      await expectError(await app().post("/leave", { code }), 403, /secret/);
      await expectError(await app().post("/leave", { code, secret: "guess" }), 403, /secret/);
      expect(await (await app().post("/leave", { code, secret })).json()).toEqual({ success: true });
      await expectError(await app().post("/poll", { code, side: "answerer" }), 404, "Session not found, expired, or origin mismatch");
    });

    test("unknown routes under the prefix are JSON 404s", async () => {
      await expectError(await app().get("/a/b/c"), 404, /not found/i);
      await expectError(await app().post("/nope", {}), 404, /not found/i);
    });
  });
}

describe("Rondevu expiry, limits and configuration", () => {
  test("sessions expire SESSION_TIMEOUT after creation, and are swept", async () => {
    const srv = startServer({ sessionTimeoutMs: 1000 });
    try {
      const o = api(`${srv.url}/rondevu`);
      const { code } = await (await o.post("/exp/offer", { info: "i", offer: "o" })).json();
      expect((await (await o.get("/exp/sessions")).json()).sessions).toHaveLength(1);
      await Bun.sleep(1100);
      expect((await (await o.get("/exp/sessions")).json()).sessions).toHaveLength(0);
      expect((await (await o.get("/")).json()).topics).toEqual([]);
      await expectError(await o.post("/poll", { code, side: "answerer" }), 404, "Session not found, expired, or origin mismatch");
    } finally {
      await srv.close();
    }
  });

  test("request rate per IP: 429 with Retry-After", async () => {
    const srv = startServer({ rondevuRate: 5 });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${srv.url}/rondevu/health`);
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get("retry-after");
          expect((await res.json()).error).toBe("Too many requests");
        } else await res.arrayBuffer();
      }
      expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await srv.close();
    }
  });

  test("prefix and CORS origins are configurable", async () => {
    const srv = startServer({ rondevuPrefix: "/discover", corsOrigins: ["https://ok.example"] });
    try {
      expect((await fetch(`${srv.url}/discover/health`)).status).toBe(200);
      expect((await fetch(`${srv.url}/rondevu/health`)).status).toBe(404);
      const ok = await fetch(`${srv.url}/discover/health`, { headers: { Origin: "https://ok.example" } });
      expect(ok.headers.get("access-control-allow-origin")).toBe("https://ok.example");
      const other = await fetch(`${srv.url}/discover/health`, { headers: { Origin: "https://evil.example" } });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await srv.close();
    }
  });

  test("CORS is open by default", async () => {
    const srv = startServer();
    try {
      const res = await fetch(`${srv.url}/rondevu/health`, { headers: { Origin: "https://any.example" } });
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    } finally {
      await srv.close();
    }
  });

  test("sqlite sessions live in the registry's database file and survive a restart", async () => {
    const dir = tempDir();
    const first = startServer({ registry: new SqliteRegistry({ dataDir: dir }) });
    const o1 = api(`${first.url}/rondevu`);
    const { code } = await (await o1.post("/keep/offer", { info: "i", offer: "o" })).json();
    await o1.post("/answer", { code, side: "offerer", candidate: "c1" });
    await first.close();
    const second = startServer({ registry: new SqliteRegistry({ dataDir: dir }) });
    try {
      const o2 = api(`${second.url}/rondevu`);
      expect(await (await o2.post("/poll", { code, side: "answerer" })).json()).toEqual({ offer: "o", offerCandidates: ["c1"], candidateCount: 1 });
    } finally {
      await second.close();
    }
  });
});
