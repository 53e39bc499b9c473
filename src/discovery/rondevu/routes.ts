import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import type { Server } from "bun";
import { clientIp } from "../../http/client-ip.ts";
import { HttpError, jsonError } from "../../http/errors.ts";
import { readBodyLimited } from "../../http/read-body.ts";
import { RateLimiter } from "../../limits/rate-limiter.ts";
import type { Hub } from "../../cluster/hub.ts";
import { throttledErrors, type Logger } from "../../log/logger.ts";
import type { RondevuSession, RondevuStore, Side } from "./types.ts";
import { Waiters } from "./waiters.ts";

export interface RondevuOptions {
  store: RondevuStore;
  /** Carries long-poll wake-ups between nodes. */
  hub: Hub;
  log: Logger;
  /** Sessions expire this long after creation (Rondevu's SESSION_TIMEOUT). */
  sessionTimeoutMs: number;
  /** Allowed CORS origins; `["*"]` for any. */
  corsOrigins: string[];
  maxSdpBytes: number;
  maxCandidates: number;
  /** Live sessions per origin and topic. */
  maxSessionsPerTopic: number;
  /** Live sessions in all, the memory bound. */
  maxSessions: number;
  /** Requests per second per client IP (burst twice that). */
  ratePerSecond: number;
  trustProxy: boolean;
  now?: () => number;
}

export interface RondevuApi {
  app: Hono<{ Bindings: { server: Server<unknown> } }>;
  /** Stops the sweeper and answers every pending long poll. */
  close(): void;
}

const MAX_WAIT_SECONDS = 30;
const MAX_LIST = 1000;

export function rondevuRoutes(o: RondevuOptions): RondevuApi {
  const now = o.now ?? Date.now;
  const { store } = o;
  const limiter = new RateLimiter(o.ratePerSecond, o.ratePerSecond * 2);
  const waiters = new Waiters(o.hub, 10_000, 16);
  const logError = throttledErrors(o.log);
  const sweeper = setInterval(() => store.sweep(now()).catch((error) => logError("rondevu sweep failed", error)), Math.min(o.sessionTimeoutMs, 60_000));
  sweeper.unref();
  const app = new Hono<{ Bindings: { server: Server<unknown> } }>();

  app.use("*", cors({ origin: o.corsOrigins.includes("*") ? "*" : o.corsOrigins, allowMethods: ["GET", "POST", "OPTIONS"] }));
  app.use("*", async (c, next) => {
    const retry = limiter.take(clientIp(c.req.raw, c.env.server, o.trustProxy));
    if (retry > 0) return jsonError(429, "Too many requests", { "Retry-After": String(retry) });
    await next();
  });

  app.get("/health", (c) => c.json({ status: "ok", timestamp: now() }));

  app.get("/", async (c) => {
    const page = queryInt(c.req.query("page"), "page", 1, Number.MAX_SAFE_INTEGER, 1);
    const limit = queryInt(c.req.query("limit"), "limit", 1, MAX_LIST, 100);
    const { topics, total } = await store.topics(originOf(c), now(), (page - 1) * limit, limit);
    return c.json({ topics, pagination: { page, limit, total, hasMore: page * limit < total } });
  });

  app.post("/:topic/offer", async (c) => {
    const topic = c.req.param("topic");
    const body = await readJson(c, o.maxSdpBytes);
    if (topic.length > 256) throw new HttpError(400, "Topic string must be 256 characters or less");
    checkText(topic, "topic");
    if (typeof body.info !== "string" || body.info.length === 0) throw new HttpError(400, "Missing or invalid required parameter: info");
    if (body.info.length > 1024) throw new HttpError(400, "Info string must be 1024 characters or less");
    checkText(body.info, "info");
    if (typeof body.offer !== "string" || body.offer.length === 0) throw new HttpError(400, "Missing or invalid required parameter: offer");
    checkSize(body.offer, "offer", o.maxSdpBytes);
    const origin = originOf(c);
    const t = now();
    // Counted, then created: racing offers may overshoot a limit by the few in flight.
    if ((await store.countLive(origin, topic, t)) >= o.maxSessionsPerTopic) throw new HttpError(429, `Too many live sessions for this topic (limit ${o.maxSessionsPerTopic})`);
    if ((await store.countAll(t)) >= o.maxSessions) throw new HttpError(503, "Session capacity reached, try again later", { "Retry-After": "5" });
    const session: RondevuSession = {
      code: crypto.randomUUID(),
      origin,
      topic,
      info: body.info,
      offer: body.offer,
      answer: null,
      offerCandidates: [],
      answerCandidates: [],
      createdAt: t,
      expiresAt: t + o.sessionTimeoutMs,
      secret: crypto.randomUUID(),
    };
    await store.create(session);
    return c.json({ code: session.code, secret: session.secret });
  });

  app.get("/:topic/sessions", async (c) => {
    const topic = c.req.param("topic");
    checkText(topic, "topic");
    const sessions = await store.sessions(originOf(c), topic, now(), MAX_LIST);
    return c.json({
      sessions: sessions.map(({ code, info, offer, offerCandidates, createdAt, expiresAt }) => ({ code, info, offer, offerCandidates, createdAt, expiresAt })),
    });
  });

  app.post("/answer", async (c) => {
    const body = await readJson(c, o.maxSdpBytes);
    const code = requireCode(body);
    const side = requireSide(body);
    const hasAnswer = body.answer !== undefined;
    const hasCandidate = body.candidate !== undefined;
    if (!hasAnswer && !hasCandidate) throw new HttpError(400, "Missing required parameter: answer or candidate");
    if (hasAnswer && hasCandidate) throw new HttpError(400, "Cannot provide both answer and candidate");
    const session = await liveSession(c, code);
    if (hasAnswer) {
      if (typeof body.answer !== "string" || body.answer.length === 0) throw new HttpError(400, "answer must be a non-empty string");
      checkSize(body.answer, "answer", o.maxSdpBytes);
      if ((await store.setAnswer(session.code, body.answer, now())) === "conflict") throw new HttpError(409, "Session already answered");
    } else {
      if (typeof body.candidate !== "string" || body.candidate.length === 0) throw new HttpError(400, "candidate must be a non-empty string");
      checkSize(body.candidate, "candidate", o.maxSdpBytes);
      if ((await store.addCandidate(session.code, side, body.candidate, o.maxCandidates, now())) === "full") {
        throw new HttpError(413, `Too many candidates for this side (limit ${o.maxCandidates})`);
      }
    }
    waiters.wake(session.code);
    return c.json({ success: true });
  });

  app.post("/poll", async (c) => {
    const body = await readJson(c, o.maxSdpBytes);
    const code = requireCode(body);
    const side = requireSide(body);
    const since = optionalInt(body.since, "since", 0, Number.MAX_SAFE_INTEGER);
    const wait = optionalNumber(body.wait, "wait", 0, MAX_WAIT_SECONDS);
    let session = await liveSession(c, code);
    if (wait) {
      // Wake-ups come for any change to the session (even the poller's own
      // candidates), so re-check until there is news for this side or time is up.
      const answeredBefore = session.answer !== null;
      const news = (s: RondevuSession) => hasNews(s, side, since) || (side === "offerer" && !answeredBefore && s.answer !== null);
      const deadline = performance.now() + wait * 1000;
      while (!news(session) && performance.now() < deadline) {
        const waiting = waiters.wait(code, deadline - performance.now());
        if (!waiting) break;
        try {
          // Read again once listening: a change made since the last read is either seen now or heard.
          // (A cluster link that does not answer is waited for no longer than the poll.)
          await Promise.race([waiting.listening, waiting.woken]);
          session = await liveSession(c, code);
          if (news(session)) break;
          await waiting.woken;
        } finally {
          waiting.end();
        }
        session = await liveSession(c, code);
      }
    }
    const candidates = candidatesFor(session, side).slice(since ?? 0);
    const candidateCount = candidatesFor(session, side).length;
    return c.json(
      side === "offerer"
        ? { answer: session.answer, answerCandidates: candidates, candidateCount }
        : { offer: session.offer, offerCandidates: candidates, candidateCount },
    );
  });

  app.post("/leave", async (c) => {
    const body = await readJson(c, o.maxSdpBytes);
    const code = requireCode(body);
    const session = await liveSession(c, code);
    if (body.secret !== session.secret) throw new HttpError(403, "Only the offerer may leave a session: secret missing or wrong");
    await store.remove(code);
    waiters.wake(code);
    return c.json({ success: true });
  });

  app.notFound(() => jsonError(404, "Not found"));

  async function liveSession(c: Context, code: string): Promise<RondevuSession> {
    const session = await store.get(code, now());
    if (!session || session.origin !== originOf(c)) throw new HttpError(404, "Session not found, expired, or origin mismatch");
    return session;
  }

  return {
    app,
    close() {
      clearInterval(sweeper);
      waiters.close();
    },
  };
}

/** The side reading a poll gets the other side's candidates. */
function candidatesFor(s: RondevuSession, side: Side): string[] {
  return side === "offerer" ? s.answerCandidates : s.offerCandidates;
}

/** Something the poller has not seen: candidates past `since`, or (offerer, first poll) an answer. */
function hasNews(s: RondevuSession, side: Side, since: number | undefined): boolean {
  if (candidatesFor(s, side).length > (since ?? 0)) return true;
  return side === "offerer" ? s.answer !== null && since === undefined : since === undefined;
}

function originOf(c: Context): string {
  return c.req.header("origin") || "unknown";
}

async function readJson(c: Context, maxSdpBytes: number): Promise<Record<string, unknown>> {
  const raw = await readBodyLimited(c.req.raw, maxSdpBytes + 16 * 1024);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new HttpError(400, "Invalid JSON body");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpError(400, "JSON body must be an object");
  return value as Record<string, unknown>;
}

function requireCode(body: Record<string, unknown>): string {
  if (typeof body.code !== "string" || body.code.length === 0 || body.code.length > 128) throw new HttpError(400, "Missing or invalid required parameter: code");
  checkText(body.code, "code");
  return body.code;
}

function requireSide(body: Record<string, unknown>): Side {
  if (body.side !== "offerer" && body.side !== "answerer") throw new HttpError(400, 'Invalid or missing parameter: side (must be "offerer" or "answerer")');
  return body.side;
}

/** Every store must hold what it accepts: Postgres text takes no NUL and no lone surrogate. */
function checkText(value: string, field: string): void {
  if (value.includes("\0") || !value.isWellFormed()) throw new HttpError(400, `${field} must be text without NUL characters or lone surrogates`);
}

function checkSize(value: string, field: string, max: number): void {
  checkText(value, field);
  if (value.length > max || Buffer.byteLength(value) > max) throw new HttpError(413, `${field} too large (limit ${max} bytes)`);
}

function queryInt(raw: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new HttpError(400, `${name} must be an integer from ${min} to ${max}`);
  return Number(raw);
}

function optionalInt(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new HttpError(400, `${name} must be an integer from ${min}`);
  return v;
}

function optionalNumber(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw new HttpError(400, `${name} must be a number from ${min} to ${max}`);
  return v;
}
