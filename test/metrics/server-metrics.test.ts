import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { buildPod } from "../helpers/pods.ts";
import { parseMetrics, scrape, value } from "../helpers/metrics.ts";
import { startServer, withServer, type TestServer } from "../helpers/server.ts";
import { serviceMissing } from "../helpers/ci.ts";
import { registeredOrigin, TestSocket } from "../helpers/ws-client.ts";
import { until } from "../helpers/until.ts";

let srv: TestServer;
beforeAll(() => {
  srv = startServer();
});
afterAll(() => srv.close());

const PROMTOOL = "/usr/bin/promtool";

describe("GET /metrics", () => {
  test("a relayed session moves the signaling counters and gauges", async () => {
    const before = await scrape(srv.url);
    const origin = await registeredOrigin(srv.wsUrl, "metrics-pod");
    const visitor = await TestSocket.open(srv.wsUrl);
    visitor.send({ t: "offer", podId: "metrics-pod", sessionId: "ms1", sdp: "offer-sdp" });
    await origin.next({ t: "offer" });
    origin.send({ t: "answer", sessionId: "ms1", sdp: "answer-sdp" });
    await visitor.next({ t: "answer" });
    visitor.send({ t: "candidate", podId: "metrics-pod", sessionId: "ms1", candidate: { candidate: "c" } });
    await origin.next({ t: "candidate" });
    visitor.send({ t: "offer", podId: "nobody-home", sessionId: "ms2", sdp: "x" });
    await visitor.next({ t: "error", sessionId: "ms2" });

    const s = await scrape(srv.url);
    const moved = (key: string) => value(s, key) - value(before, key);
    // Both offers were accepted for relay; the second found its origin offline (counted below).
    expect(moved('gemmapod_signal_relayed_frames_total{type="offer"}')).toBe(2);
    expect(moved('gemmapod_signal_relayed_frames_total{type="answer"}')).toBe(1);
    expect(moved('gemmapod_signal_relayed_frames_total{type="candidate"}')).toBe(1);
    expect(moved('gemmapod_signal_relayed_frames_total{type="error"}')).toBe(0);
    // Started = answered + failed + negotiating: the offer to an offline origin started one and failed it.
    expect(moved("gemmapod_signal_sessions_started_total")).toBe(2);
    expect(moved("gemmapod_signal_sessions_answered_total")).toBe(1);
    expect(moved('gemmapod_signal_sessions_failed_total{reason="origin_offline"}')).toBe(1);
    expect(moved("gemmapod_signal_answer_latency_seconds_count")).toBe(1);
    expect(value(s, "gemmapod_signal_answer_latency_seconds_sum")).toBeLessThan(5);
    expect(value(s, "gemmapod_signal_origins_online")).toBe(1);
    expect(value(s, 'gemmapod_signal_connections{kind="signal"}')).toBe(2);
    expect(value(s, "gemmapod_signal_sessions_negotiating")).toBe(1);

    // An origin leaving before it answers fails the session with that reason.
    visitor.send({ t: "offer", podId: "metrics-pod", sessionId: "ms3", sdp: "x" });
    await origin.next({ t: "offer", sessionId: "ms3" });
    origin.close();
    await visitor.next({ t: "error", sessionId: "ms3" });
    visitor.close();
    await until("the visitor's close is counted", async () => value(await scrape(srv.url), 'gemmapod_signal_connections{kind="signal"}') === 0);
    const after = await scrape(srv.url);
    expect(value(after, 'gemmapod_signal_sessions_failed_total{reason="origin_offline"}') - value(s, 'gemmapod_signal_sessions_failed_total{reason="origin_offline"}')).toBe(1);
    expect(value(after, "gemmapod_signal_origins_online")).toBe(0);
    expect(value(after, 'gemmapod_signal_connections{kind="signal"}')).toBe(0);
  });

  test("uploads, refusals, served bytes, cache hits and Rondevu requests are counted", async () => {
    const pod = buildPod({ name: "metrics" });
    const before = await scrape(srv.url);
    const up = await fetch(`${srv.url}/pods`, { method: "POST", headers: { "Content-Type": "text/html" }, body: pod.bytes });
    expect(up.status).toBe(200);
    const { id } = await up.json();
    const bad = await fetch(`${srv.url}/pods`, { method: "POST", headers: { "Content-Type": "text/html" }, body: "<html>not a pod</html>" });
    expect(bad.status).toBe(400);
    const page = await fetch(`${srv.url}/${id}`, { headers: { "Accept-Encoding": "identity" } });
    expect((await page.arrayBuffer()).byteLength).toBe(pod.bytes.byteLength);
    const offer = await fetch(`${srv.url}/rondevu/chess/offer`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ info: "a", offer: "sdp" }) });
    expect(offer.status).toBe(200);
    expect((await fetch(`${srv.url}/rondevu/poll`, { method: "POST", body: "{" })).status).toBe(400);

    const s = await scrape(srv.url);
    const moved = (key: string) => value(s, key) - value(before, key);
    expect(moved("gemmapod_signal_pods_uploaded_total")).toBe(1);
    expect(moved('gemmapod_signal_pods_refused_total{reason="invalid"}')).toBe(1);
    expect(moved('gemmapod_signal_pod_served_bytes_total{encoding="identity"}')).toBe(pod.bytes.byteLength);
    expect(moved("gemmapod_signal_pod_cache_hits_total")).toBe(1);
    expect(moved('gemmapod_signal_rondevu_requests_total{operation="offer",outcome="ok"}')).toBe(1);
    expect(moved('gemmapod_signal_rondevu_requests_total{operation="poll",outcome="error"}')).toBe(1);
    expect(moved('gemmapod_signal_http_responses_total{code="2xx"}')).toBeGreaterThanOrEqual(4);
  });

  test("sockets are counted by kind, and tunnelled responses by status class", async () => {
    const before = await scrape(srv.url);
    const peer = new WebSocket(`${srv.url.replace(/^http/, "ws")}/.webrtc?room=metrics`);
    await new Promise((resolve) => (peer.onmessage = resolve)); // its challenge: the socket is open
    // No client holds this name: the broker answers 502 itself.
    expect((await fetch(`${srv.url}/tunnel/nobody-here/x`)).status).toBe(502);
    const s = await scrape(srv.url);
    expect(value(s, 'gemmapod_signal_connections{kind="peer"}')).toBe(1);
    expect(value(s, 'gemmapod_signal_tunnel_responses_total{code="5xx"}') - value(before, 'gemmapod_signal_tunnel_responses_total{code="5xx"}')).toBe(1);
    expect(value(s, "gemmapod_signal_cluster_nodes")).toBe(0);
    peer.close();
  });

  test("process metrics come from the running process", async () => {
    const s = await scrape(srv.url);
    expect(value(s, "process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
    expect(value(s, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(value(s, "process_start_time_seconds")).toBeLessThanOrEqual(Date.now() / 1000);
    if (existsSync("/proc/self/fd")) expect(value(s, "process_open_fds")).toBeGreaterThan(3);
    for (const name of s.types.keys()) expect(name).toMatch(/^(gemmapod_signal_|process_)/);
  });

  test.skipIf(!(existsSync(PROMTOOL) || serviceMissing(`${PROMTOOL} is missing: install the Debian package prometheus`)))("the output passes promtool check metrics", async () => {
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    const run = Bun.spawn([PROMTOOL, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([run.exited, new Response(run.stdout).text(), new Response(run.stderr).text()]);
    expect({ code, out, err }).toEqual({ code: 0, out: "", err: "" });
  });

  test("limit refusals are counted by limit", async () => {
    await withServer({ uploadsPerMinute: 1, wsConnectRate: 1 }, async (tight) => {
      const upload = () => fetch(`${tight.url}/pods`, { method: "POST", headers: { "Content-Type": "text/html" }, body: "x" });
      expect((await upload()).status).toBe(400);
      expect((await upload()).status).toBe(429);
      const sockets = [await TestSocket.open(tight.wsUrl), await TestSocket.open(tight.wsUrl)];
      expect((await fetch(`${tight.url}/signal`, { headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" } })).status).toBe(429);
      for (const ws of sockets) ws.close();
      const s = await scrape(tight.url);
      expect(value(s, 'gemmapod_signal_limit_refusals_total{limit="uploads"}')).toBe(1);
      expect(value(s, 'gemmapod_signal_pods_refused_total{reason="rate_limited"}')).toBe(1);
      expect(value(s, 'gemmapod_signal_limit_refusals_total{limit="ws_connect"}')).toBe(1);
      expect(value(s, 'gemmapod_signal_limit_refusals_total{limit="ws_messages"}')).toBe(0);
    });
  });

  test("--metrics-token guards it with a Bearer token", async () => {
    const token = "metrics-secret-0123456789";
    await withServer({ metricsToken: token }, async (guarded) => {
      const none = await fetch(`${guarded.url}/metrics`);
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toBe("Bearer");
      expect(await none.json()).toEqual({ error: expect.stringContaining("metrics token required") });
      expect((await fetch(`${guarded.url}/metrics`, { headers: { Authorization: `Bearer ${token}x` } })).status).toBe(401);
      expect((await fetch(`${guarded.url}/metrics`, { headers: { Authorization: token } })).status).toBe(401);
      const ok = await fetch(`${guarded.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(parseMetrics(await ok.text()).types.get("gemmapod_signal_pods_uploaded_total")).toBe("counter");
    });
  });
});
