// Drives the API the way the Rondevu TypeScript client does: a base URL with any
// trailing slash dropped, endpoint paths appended to it, Content-Type JSON only
// when there is a body, an optional Origin, and errors read from `body.error`.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startServer, type TestServer } from "../helpers/server.ts";

class RondevuLikeClient {
  private readonly baseUrl: string;
  constructor(baseUrl: string, private readonly origin?: string) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
  }
  private async request<T>(endpoint: string, init: { method?: string; body?: string } = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (init.body) headers["Content-Type"] = "application/json";
    if (this.origin) headers.Origin = this.origin;
    const res = await fetch(`${this.baseUrl}${endpoint}`, { ...init, headers });
    const data = (await res.json()) as any;
    if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
    return data as T;
  }
  listTopics(page = 1, limit = 100) {
    return this.request<any>(`/?page=${page}&limit=${limit}`);
  }
  listSessions(topic: string) {
    return this.request<any>(`/${encodeURIComponent(topic)}/sessions`);
  }
  createOffer(topic: string, body: { info: string; offer: string }) {
    return this.request<any>(`/${encodeURIComponent(topic)}/offer`, { method: "POST", body: JSON.stringify(body) });
  }
  sendAnswer(body: { code: string; side: "offerer" | "answerer"; answer?: string; candidate?: string }) {
    return this.request<any>("/answer", { method: "POST", body: JSON.stringify(body) });
  }
  poll(code: string, side: "offerer" | "answerer") {
    return this.request<any>("/poll", { method: "POST", body: JSON.stringify({ code, side }) });
  }
  health() {
    return this.request<any>("/health");
  }
}

let srv: TestServer;
beforeAll(() => {
  srv = startServer();
});
afterAll(() => srv.close());

test("a full exchange through a Rondevu-style client pointed at <server>/rondevu/", async () => {
  const offerer = new RondevuLikeClient(`${srv.url}/rondevu/`, "https://game.example");
  const answerer = new RondevuLikeClient(`${srv.url}/rondevu`, "https://game.example");
  expect((await offerer.health()).status).toBe("ok");

  const { code } = await offerer.createOffer("lobby #1", { info: "peer-alice", offer: JSON.stringify({ type: "offer", sdp: "v=0..." }) });
  await offerer.sendAnswer({ code, side: "offerer", candidate: JSON.stringify({ candidate: "candidate:1 1 udp 1 192.0.2.1 5000 typ host" }) });

  const { topics } = await answerer.listTopics();
  expect(topics).toEqual([{ topic: "lobby #1", count: 1 }]);
  const { sessions } = await answerer.listSessions("lobby #1");
  expect(sessions[0].info).toBe("peer-alice");
  expect(sessions[0].offerCandidates).toHaveLength(1);

  await answerer.sendAnswer({ code, side: "answerer", answer: JSON.stringify({ type: "answer", sdp: "v=0..." }) });
  await answerer.sendAnswer({ code, side: "answerer", candidate: JSON.stringify({ candidate: "candidate:2" }) });
  const seen = await offerer.poll(code, "offerer");
  expect(JSON.parse(seen.answer).type).toBe("answer");
  expect(seen.answerCandidates).toHaveLength(1);
  const other = await answerer.poll(code, "answerer");
  expect(JSON.parse(other.offer).type).toBe("offer");

  // Errors surface through body.error.
  await expect(answerer.sendAnswer({ code, side: "answerer", answer: "different" })).rejects.toThrow("Session already answered");
  await expect(new RondevuLikeClient(`${srv.url}/rondevu`, "https://other.example").poll(code, "answerer")).rejects.toThrow(
    "Session not found, expired, or origin mismatch",
  );
  await expect(offerer.createOffer("t", { info: "", offer: "o" })).rejects.toThrow("Missing or invalid required parameter: info");
});
