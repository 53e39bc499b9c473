export type Side = "offerer" | "answerer";

/** One Rondevu session: an offer waiting on a topic, and what both sides added since. */
export interface RondevuSession {
  code: string;
  /** The `Origin` header bucket that isolates sessions between apps. */
  origin: string;
  topic: string;
  info: string;
  offer: string;
  answer: string | null;
  offerCandidates: string[];
  answerCandidates: string[];
  /** Unix milliseconds. */
  createdAt: number;
  expiresAt: number;
  /** Only the offerer learns it (from POST /offer); it proves the right to leave early. */
  secret: string;
}

export type AnswerResult = "ok" | "conflict" | "missing";
export type AppendResult = "ok" | "full" | "missing";

/**
 * Where sessions live. Every method is atomic in its store (one statement, a
 * transaction, or no await inside), so racing appends lose no candidate even
 * when several nodes share one Postgres.
 */
export interface RondevuStore {
  create(session: RondevuSession): Promise<void>;
  /** A live session by code (expired ones are treated as absent). */
  get(code: string, now: number): Promise<RondevuSession | null>;
  /** Live unanswered sessions per topic for one origin, sorted by topic. */
  topics(origin: string, now: number, offset: number, limit: number): Promise<{ topics: { topic: string; count: number }[]; total: number }>;
  /** Live unanswered sessions of a topic for one origin, newest first. */
  sessions(origin: string, topic: string, now: number, limit: number): Promise<RondevuSession[]>;
  countLive(origin: string, topic: string, now: number): Promise<number>;
  countAll(now: number): Promise<number>;
  /** First answer wins; the same answer again is fine. */
  setAnswer(code: string, answer: string, now: number): Promise<AnswerResult>;
  addCandidate(code: string, side: Side, candidate: string, max: number, now: number): Promise<AppendResult>;
  remove(code: string): Promise<boolean>;
  /** Drops expired sessions; returns how many. */
  sweep(now: number): Promise<number>;
}
