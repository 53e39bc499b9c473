// The server's log lines as an operator's collector sees them: one per request
// and per notable event, in both formats, and never a secret.
import { describe, expect, test } from "bun:test";
import { ownerToken } from "../../src/client/origin-auth.ts";
import { Logger, throttledErrors } from "../../src/log/logger.ts";
import { RefusalSummary } from "../../src/log/refusal-summary.ts";
import { spawnServer, type RunningCli } from "../helpers/cli.ts";
import { buildPod } from "../helpers/pods.ts";
import { TestSocket } from "../helpers/ws-client.ts";
import { until } from "../helpers/until.ts";

const UPLOAD_TOKEN = "upload-token-SECRET-0123456789";
const ADMIN_TOKEN = "admin-token-SECRET-0123456789";
const SDP = "v=0\r\no=- SDP-BODY-SECRET 2 IN IP4 127.0.0.1\r\n";

/** Exercises requests and events that each carry a secret somewhere. */
async function traffic(server: RunningCli): Promise<{ secrets: string[]; podId: string }> {
  const pod = buildPod({ name: "logged", podId: "logged-pod" });
  const wsUrl = `${server.url.replace(/^http/, "ws")}/signal`;
  const up = await fetch(`${server.url}/pods?upload_token=QUERY-SECRET`, {
    method: "POST",
    headers: { "Content-Type": "text/html", Authorization: `Bearer ${UPLOAD_TOKEN}` },
    body: pod.bytes,
  });
  expect(up.status).toBe(200);
  const { id } = await up.json();
  const origin = await TestSocket.open(wsUrl);
  const token = await ownerToken(pod.key, "logged-pod", await origin.challenge);
  origin.send({ t: "register", podId: "logged-pod", ownerToken: token });
  await origin.next({ t: "registered" });
  const visitor = await TestSocket.open(wsUrl);
  visitor.send({ t: "offer", podId: "logged-pod", sessionId: "log-s1", sdp: SDP });
  await origin.next({ t: "offer" });
  origin.send({ t: "error", sessionId: "log-s1", message: "no model loaded" });
  await visitor.next({ t: "error" });
  expect((await fetch(`${server.url}/admin/pods`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
  expect((await fetch(`${server.url}/${id}`, { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
  visitor.close();
  origin.close();
  await until("the server logs the origin gone", () => server.output().includes("origin gone"));
  return { secrets: [UPLOAD_TOKEN, ADMIN_TOKEN, token, token.split(".")[1]!, "SDP-BODY-SECRET", "QUERY-SECRET"], podId: id };
}

async function run(format: "json" | "text") {
  const server = await spawnServer(["--log-format", format, "--upload-token", UPLOAD_TOKEN, "--admin-token", ADMIN_TOKEN]);
  let result;
  try {
    result = await traffic(server);
  } finally {
    expect(await server.stop()).toBe(0);
  }
  await until("the last line is read", () => server.output().includes("shutting down"));
  return { ...result, lines: server.output().trim().split("\n") };
}

describe("logs", () => {
  test("--log-format json: one JSON object a line with time, level, msg and fields", async () => {
    const { lines, secrets, podId } = await run("json");
    const entries = lines.map((line) => JSON.parse(line));
    for (const e of entries) {
      expect(new Date(e.time).toISOString()).toBe(e.time);
      expect(["debug", "info", "warn", "error"]).toContain(e.level);
      expect(typeof e.msg).toBe("string");
    }
    const msgs = entries.map((e) => e.msg);
    expect(msgs[0]).toMatch(/^gemmapod-signal listening on 127\.0\.0\.1:\d+ \(loopback only\); locally: http:\/\/127\.0\.0\.1:\d+$/);
    const requests = entries.filter((e) => e.msg === "request");
    const upload = requests.find((e) => e.path === "/pods");
    expect(upload).toMatchObject({ level: "info", method: "POST", path: "/pods", status: 200, client: "127.0.0.1" });
    expect(upload.bytes).toBeGreaterThan(20);
    expect(upload.ms).toBeGreaterThan(0);
    expect(requests.find((e) => e.path === "/signal")).toMatchObject({ method: "GET", status: 101, client: "127.0.0.1" });
    expect(requests.find((e) => e.method === "DELETE")).toMatchObject({ path: `/${podId}`, status: 200 });
    expect(entries.find((e) => e.msg === "pod published")).toMatchObject({ podId, name: "logged" });
    expect(entries.find((e) => e.msg === "origin registered")).toMatchObject({ podId: "logged-pod" });
    expect(entries.find((e) => e.msg === "session failed")).toMatchObject({ podId: "logged-pod", sessionId: "log-s1", reason: "origin_error" });
    expect(entries.find((e) => e.msg === "pod deleted")).toMatchObject({ podId, why: "request" });
    expect(entries.find((e) => e.msg === "origin gone")).toMatchObject({ podId: "logged-pod" });
    expect(entries.at(-1)).toMatchObject({ msg: "shutting down", signal: "SIGTERM" });
    const all = lines.join("\n");
    for (const secret of secrets) expect(all).not.toContain(secret);
  });

  test("--log-format text: a timestamp, the level, the message and key=value fields", async () => {
    const { lines, secrets } = await run("text");
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN |ERROR) \S/);
    expect(lines).toContainEqual(expect.stringMatching(/ INFO  request method=POST path=\/pods status=200 bytes=\d+ ms=[\d.]+ client=127\.0\.0\.1$/));
    expect(lines).toContainEqual(expect.stringMatching(/ INFO  pod published podId=\S+ owner=[0-9a-f]{64} name=logged bytes=\d+$/));
    const all = lines.join("\n");
    for (const secret of secrets) expect(all).not.toContain(secret);
  });

  test("--log-level warn drops request lines but still announces the address; a bad level exits 2", async () => {
    const server = await spawnServer(["--log-level", "warn", "--log-format", "json"]);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(await server.stop()).toBe(0);
    await until("the last line is read", () => server.output().includes("shutting down"));
    expect(server.output().trim().split("\n").map((l) => JSON.parse(l).msg)).toEqual([expect.stringContaining("listening on"), "shutting down"]);
    const bad = Bun.spawnSync([process.execPath, "src/cli.ts", "--log-level", "loud"], { cwd: `${import.meta.dir}/../..`, stderr: "pipe" });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain("expected one of debug, info, warn, error");
  });

  test("limit refusals are summed into one line per limit per window", async () => {
    const lines: string[] = [];
    const summary = new RefusalSummary(new Logger({ level: "info", format: "json", write: (l) => lines.push(l) }), 100);
    for (let i = 0; i < 500; i++) summary.count("uploads");
    summary.count("ws_connect");
    expect(lines).toEqual([]);
    await until("the window's summary", () => lines.length >= 2);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: "warn", msg: "refused by a limit", limit: "uploads", refused: 500 }),
      expect.objectContaining({ level: "warn", msg: "refused by a limit", limit: "ws_connect", refused: 1 }),
    ]);
    // A quiet window logs nothing: the next line is the next refusal's own summary.
    summary.count("uploads");
    await until("the next window's summary", () => lines.length >= 3);
    expect(lines.slice(2).map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ limit: "uploads", refused: 1 })]);
  });

  test("a flood of failures (an outage) is one error line per window, counting what it left out", async () => {
    const lines: string[] = [];
    const logError = throttledErrors(new Logger({ level: "info", format: "json", write: (l) => lines.push(l) }), 100);
    for (let i = 0; i < 1000; i++) logError("entering a room failed", new Error("the cluster is unreachable"), { room: "r" });
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ level: "error", msg: "entering a room failed", error: "the cluster is unreachable", room: "r" })]);
    expect(JSON.parse(lines[0]!)).not.toHaveProperty("alsoFailedSinceLast");
    await Bun.sleep(120);
    logError("entering a room failed", new Error("the cluster is unreachable"));
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]!)).toMatchObject({ alsoFailedSinceLast: 999 });
  });
});
