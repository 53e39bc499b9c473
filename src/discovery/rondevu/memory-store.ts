import type { AnswerResult, AppendResult, RondevuSession, RondevuStore, Side } from "./types.ts";

export class MemoryRondevuStore implements RondevuStore {
  private readonly byCode = new Map<string, RondevuSession>();

  async create(session: RondevuSession): Promise<void> {
    this.byCode.set(session.code, session);
  }

  async get(code: string, now: number): Promise<RondevuSession | null> {
    return this.live(code, now);
  }

  private live(code: string, now: number): RondevuSession | null {
    const s = this.byCode.get(code);
    return s && s.expiresAt > now ? s : null;
  }

  async topics(origin: string, now: number, offset: number, limit: number) {
    const counts = new Map<string, number>();
    for (const s of this.byCode.values()) {
      if (s.origin === origin && s.answer === null && s.expiresAt > now) counts.set(s.topic, (counts.get(s.topic) ?? 0) + 1);
    }
    const all = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([topic, count]) => ({ topic, count }));
    return { topics: all.slice(offset, offset + limit), total: all.length };
  }

  async sessions(origin: string, topic: string, now: number, limit: number): Promise<RondevuSession[]> {
    const out: RondevuSession[] = [];
    for (const s of this.byCode.values()) {
      if (s.origin === origin && s.topic === topic && s.answer === null && s.expiresAt > now) out.push(s);
    }
    return out.sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }

  async countLive(origin: string, topic: string, now: number): Promise<number> {
    let n = 0;
    for (const s of this.byCode.values()) if (s.origin === origin && s.topic === topic && s.expiresAt > now) n++;
    return n;
  }

  async countAll(now: number): Promise<number> {
    this.dropExpired(now);
    return this.byCode.size;
  }

  async setAnswer(code: string, answer: string, now: number): Promise<AnswerResult> {
    const s = this.live(code, now);
    if (!s) return "missing";
    if (s.answer !== null) return s.answer === answer ? "ok" : "conflict";
    s.answer = answer;
    return "ok";
  }

  async addCandidate(code: string, side: Side, candidate: string, max: number, now: number): Promise<AppendResult> {
    const s = this.live(code, now);
    if (!s) return "missing";
    const list = side === "offerer" ? s.offerCandidates : s.answerCandidates;
    if (list.length >= max) return "full";
    list.push(candidate);
    return "ok";
  }

  async remove(code: string): Promise<boolean> {
    return this.byCode.delete(code);
  }

  async sweep(now: number): Promise<number> {
    return this.dropExpired(now);
  }

  private dropExpired(now: number): number {
    let n = 0;
    for (const [code, s] of this.byCode) {
      if (s.expiresAt <= now) {
        this.byCode.delete(code);
        n++;
      }
    }
    return n;
  }
}
