import type { SQL } from "bun";
import type { AnswerResult, AppendResult, RondevuSession, RondevuStore, Side } from "./types.ts";

interface SessionRow {
  code: string;
  origin: string;
  topic: string;
  info: string;
  offer: string;
  answer: string | null;
  secret: string;
  offer_candidates: string[];
  answer_candidates: string[];
  created_at: string;
  expires_at: string;
}

/**
 * Sessions shared by every node on one Postgres. Answers and candidates are
 * single conditional UPDATEs, so concurrent writers from any node never lose
 * a candidate nor let a second answer in.
 */
export class PostgresRondevuStore implements RondevuStore {
  constructor(private readonly sql: SQL) {}

  async create(s: RondevuSession): Promise<void> {
    await this.sql`INSERT INTO rondevu_sessions (code, origin, topic, info, offer, secret, created_at, expires_at)
      VALUES (${s.code}, ${s.origin}, ${s.topic}, ${s.info}, ${s.offer}, ${s.secret}, ${s.createdAt}, ${s.expiresAt})`;
  }

  async get(code: string, now: number): Promise<RondevuSession | null> {
    const [row] = await this.sql<SessionRow[]>`SELECT * FROM rondevu_sessions WHERE code = ${code} AND expires_at > ${now}`;
    return row ? toSession(row) : null;
  }

  async topics(origin: string, now: number, offset: number, limit: number) {
    const topics = await this.sql<{ topic: string; count: number }[]>`SELECT topic, count(*)::int AS count FROM rondevu_sessions
      WHERE origin = ${origin} AND answer IS NULL AND expires_at > ${now} GROUP BY topic ORDER BY topic LIMIT ${limit} OFFSET ${offset}`;
    const [{ n }] = await this.sql`SELECT count(DISTINCT topic)::int AS n FROM rondevu_sessions WHERE origin = ${origin} AND answer IS NULL AND expires_at > ${now}`;
    return { topics: topics.map(({ topic, count }) => ({ topic, count })), total: n as number };
  }

  async sessions(origin: string, topic: string, now: number, limit: number): Promise<RondevuSession[]> {
    const rows = await this.sql<SessionRow[]>`SELECT * FROM rondevu_sessions
      WHERE origin = ${origin} AND topic = ${topic} AND answer IS NULL AND expires_at > ${now} ORDER BY created_at DESC, seq DESC LIMIT ${limit}`;
    return rows.map(toSession);
  }

  async countLive(origin: string, topic: string, now: number): Promise<number> {
    const [{ n }] = await this.sql`SELECT count(*)::int AS n FROM rondevu_sessions WHERE origin = ${origin} AND topic = ${topic} AND expires_at > ${now}`;
    return n as number;
  }

  async countAll(now: number): Promise<number> {
    const [{ n }] = await this.sql`SELECT count(*)::int AS n FROM rondevu_sessions WHERE expires_at > ${now}`;
    return n as number;
  }

  async setAnswer(code: string, answer: string, now: number): Promise<AnswerResult> {
    const set = await this.sql`UPDATE rondevu_sessions SET answer = ${answer} WHERE code = ${code} AND expires_at > ${now} AND answer IS NULL RETURNING code`;
    if (set.length > 0) return "ok";
    const [row] = await this.sql<{ answer: string | null }[]>`SELECT answer FROM rondevu_sessions WHERE code = ${code} AND expires_at > ${now}`;
    if (!row) return "missing";
    return row.answer === answer ? "ok" : "conflict";
  }

  async addCandidate(code: string, side: Side, candidate: string, max: number, now: number): Promise<AppendResult> {
    const added =
      side === "offerer"
        ? await this.sql`UPDATE rondevu_sessions SET offer_candidates = offer_candidates || jsonb_build_array(${candidate}::text)
            WHERE code = ${code} AND expires_at > ${now} AND jsonb_array_length(offer_candidates) < ${max} RETURNING code`
        : await this.sql`UPDATE rondevu_sessions SET answer_candidates = answer_candidates || jsonb_build_array(${candidate}::text)
            WHERE code = ${code} AND expires_at > ${now} AND jsonb_array_length(answer_candidates) < ${max} RETURNING code`;
    if (added.length > 0) return "ok";
    const live = await this.sql`SELECT 1 FROM rondevu_sessions WHERE code = ${code} AND expires_at > ${now}`;
    return live.length > 0 ? "full" : "missing";
  }

  async remove(code: string): Promise<boolean> {
    return (await this.sql`DELETE FROM rondevu_sessions WHERE code = ${code} RETURNING code`).length > 0;
  }

  async sweep(now: number): Promise<number> {
    return (await this.sql`DELETE FROM rondevu_sessions WHERE expires_at <= ${now}`).count;
  }
}

function toSession(row: SessionRow): RondevuSession {
  return {
    code: row.code,
    origin: row.origin,
    topic: row.topic,
    info: row.info,
    offer: row.offer,
    answer: row.answer,
    offerCandidates: row.offer_candidates,
    answerCandidates: row.answer_candidates,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    secret: row.secret,
  };
}
