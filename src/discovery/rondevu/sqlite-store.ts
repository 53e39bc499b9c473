import type { Database, Statement } from "bun:sqlite";
import type { AnswerResult, AppendResult, RondevuSession, RondevuStore, Side } from "./types.ts";

interface SessionRow {
  code: string;
  origin: string;
  topic: string;
  info: string;
  offer: string;
  answer: string | null;
  secret: string;
  created_at: number;
  expires_at: number;
}

/** Sessions in the registry's own SQLite database, so one file holds all state. */
export class SqliteRondevuStore implements RondevuStore {
  private readonly q: Record<
    "insert" | "select" | "candidates" | "topics" | "topicCount" | "sessions" | "countLive" | "countAll" | "answer" | "count" | "append" | "remove" | "removeCandidates" | "expired",
    Statement
  >;

  constructor(private readonly db: Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS rondevu_sessions (
      code TEXT PRIMARY KEY, origin TEXT NOT NULL, topic TEXT NOT NULL, info TEXT NOT NULL,
      offer TEXT NOT NULL, answer TEXT, secret TEXT NOT NULL,
      created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rondevu_by_topic ON rondevu_sessions(origin, topic, expires_at);
    CREATE INDEX IF NOT EXISTS rondevu_by_expiry ON rondevu_sessions(expires_at);
    CREATE TABLE IF NOT EXISTS rondevu_candidates (
      code TEXT NOT NULL, side TEXT NOT NULL, seq INTEGER NOT NULL, candidate TEXT NOT NULL,
      PRIMARY KEY (code, side, seq)
    );`);
    this.q = {
      insert: db.prepare(`INSERT INTO rondevu_sessions VALUES ($code, $origin, $topic, $info, $offer, NULL, $secret, $createdAt, $expiresAt)`),
      select: db.prepare(`SELECT * FROM rondevu_sessions WHERE code = ? AND expires_at > ?`),
      candidates: db.prepare(`SELECT side, candidate FROM rondevu_candidates WHERE code = ? ORDER BY side, seq`),
      topics: db.prepare(`SELECT topic, COUNT(*) AS count FROM rondevu_sessions WHERE origin = ? AND answer IS NULL AND expires_at > ? GROUP BY topic ORDER BY topic LIMIT ? OFFSET ?`),
      topicCount: db.prepare(`SELECT COUNT(DISTINCT topic) AS n FROM rondevu_sessions WHERE origin = ? AND answer IS NULL AND expires_at > ?`),
      sessions: db.prepare(`SELECT * FROM rondevu_sessions WHERE origin = ? AND topic = ? AND answer IS NULL AND expires_at > ? ORDER BY created_at DESC, rowid DESC LIMIT ?`),
      countLive: db.prepare(`SELECT COUNT(*) AS n FROM rondevu_sessions WHERE origin = ? AND topic = ? AND expires_at > ?`),
      countAll: db.prepare(`SELECT COUNT(*) AS n FROM rondevu_sessions WHERE expires_at > ?`),
      answer: db.prepare(`UPDATE rondevu_sessions SET answer = ? WHERE code = ? AND answer IS NULL`),
      count: db.prepare(`SELECT COUNT(*) AS n FROM rondevu_candidates WHERE code = ? AND side = ?`),
      append: db.prepare(`INSERT INTO rondevu_candidates VALUES (?, ?, ?, ?)`),
      remove: db.prepare(`DELETE FROM rondevu_sessions WHERE code = ?`),
      removeCandidates: db.prepare(`DELETE FROM rondevu_candidates WHERE code = ?`),
      expired: db.prepare(`SELECT code FROM rondevu_sessions WHERE expires_at <= ?`),
    };
  }

  async create(s: RondevuSession): Promise<void> {
    this.q.insert.run({ code: s.code, origin: s.origin, topic: s.topic, info: s.info, offer: s.offer, secret: s.secret, createdAt: s.createdAt, expiresAt: s.expiresAt });
  }

  async get(code: string, now: number): Promise<RondevuSession | null> {
    const row = this.q.select.get(code, now) as SessionRow | null;
    return row ? this.toSession(row) : null;
  }

  async topics(origin: string, now: number, offset: number, limit: number) {
    const topics = this.q.topics.all(origin, now, limit, offset) as { topic: string; count: number }[];
    const { n } = this.q.topicCount.get(origin, now) as { n: number };
    return { topics, total: n };
  }

  async sessions(origin: string, topic: string, now: number, limit: number): Promise<RondevuSession[]> {
    return (this.q.sessions.all(origin, topic, now, limit) as SessionRow[]).map((row) => this.toSession(row));
  }

  async countLive(origin: string, topic: string, now: number): Promise<number> {
    return (this.q.countLive.get(origin, topic, now) as { n: number }).n;
  }

  async countAll(now: number): Promise<number> {
    return (this.q.countAll.get(now) as { n: number }).n;
  }

  async setAnswer(code: string, answer: string, now: number): Promise<AnswerResult> {
    const s = this.q.select.get(code, now) as SessionRow | null;
    if (!s) return "missing";
    if (s.answer !== null) return s.answer === answer ? "ok" : "conflict";
    this.q.answer.run(answer, code);
    return "ok";
  }

  async addCandidate(code: string, side: Side, candidate: string, max: number, now: number): Promise<AppendResult> {
    return this.db.transaction((): AppendResult => {
      if (!this.q.select.get(code, now)) return "missing";
      const { n } = this.q.count.get(code, side) as { n: number };
      if (n >= max) return "full";
      this.q.append.run(code, side, n, candidate);
      return "ok";
    })();
  }

  async remove(code: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.q.removeCandidates.run(code);
      return this.q.remove.run(code).changes > 0;
    })();
  }

  async sweep(now: number): Promise<number> {
    return this.db.transaction(() => {
      const codes = this.q.expired.all(now) as { code: string }[];
      for (const { code } of codes) {
        this.q.removeCandidates.run(code);
        this.q.remove.run(code);
      }
      return codes.length;
    })();
  }

  private toSession(row: SessionRow): RondevuSession {
    const offerCandidates: string[] = [];
    const answerCandidates: string[] = [];
    for (const c of this.q.candidates.all(row.code) as { side: Side; candidate: string }[]) {
      (c.side === "offerer" ? offerCandidates : answerCandidates).push(c.candidate);
    }
    return {
      code: row.code,
      origin: row.origin,
      topic: row.topic,
      info: row.info,
      offer: row.offer,
      answer: row.answer,
      offerCandidates,
      answerCandidates,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      secret: row.secret,
    };
  }
}
