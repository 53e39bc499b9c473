// Issue 11 item 6: a pod whose file is missing or damaged is a 500, logged once, counted on /health.
import { afterEach, beforeEach, expect, spyOn, test, type Mock } from "bun:test";
import { readFileSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SqliteRegistry } from "../../src/registry/sqlite.ts";
import { buildPod } from "../helpers/pods.ts";
import { startServer, tempDir, type TestServer } from "../helpers/server.ts";

let logged: Mock<typeof console.error>;
beforeEach(() => {
  logged = spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => logged.mockRestore());

const pod = buildPod({ podId: "damaged-pod" });
const DAMAGED = { error: "pod data is missing or damaged" };

async function status(srv: TestServer, path: string) {
  const res = await fetch(`${srv.url}${path}`);
  return { status: res.status, body: await res.json().catch(() => null) };
}
const damagedPods = async (srv: TestServer) => ((await (await fetch(`${srv.url}/health`)).json()) as { damagedPods: number }).damagedPods;
const linesAbout = (text: string) => logged.mock.calls.map((args) => args.join(" ")).filter((line) => line.includes(text));

test("missing, truncated and altered pod files answer 500, are logged once each and counted, before and after a restart", async () => {
  const dir = tempDir();
  const blob = (id: string) => join(dir, "blobs", `${id}.html`);
  // No cache: every GET reads the file, as after an eviction.
  let srv = startServer({ registry: new SqliteRegistry({ dataDir: dir }), podCacheBytes: 0 });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${srv.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
    ids.push(((await res.json()) as { id: string }).id);
  }
  const [missing, truncated, altered, intact] = ids as [string, string, string, string];
  expect(await damagedPods(srv)).toBe(0);
  unlinkSync(blob(missing));
  truncateSync(blob(truncated), 1000);
  const bytes = readFileSync(blob(altered));
  bytes[bytes.length - 10] ^= 1; // same size, different content
  writeFileSync(blob(altered), bytes);

  for (let round = 0; round < 3; round++) {
    for (const id of [missing, truncated, altered]) {
      expect(await status(srv, `/${id}`)).toEqual({ status: 500, body: DAMAGED });
      expect((await status(srv, `/${id}/meta`)).status).toBe(200);
    }
  }
  expect((await status(srv, `/${intact}`)).status).toBe(200);
  for (const id of [missing, truncated, altered]) {
    const lines = linesAbout(id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(blob(id));
  }
  expect(await damagedPods(srv)).toBe(3);
  await srv.close();

  // Restart: start-up counts the record without a file, and serving still finds all three.
  logged.mockClear();
  srv = startServer({ registry: new SqliteRegistry({ dataDir: dir }) });
  try {
    expect(linesAbout("lack their file")).toEqual([expect.stringContaining(`1 of 4 pod records lack their file`)]);
    expect(linesAbout("lack their file")[0]).toContain(missing);
    expect(await damagedPods(srv)).toBe(1);
    for (const id of [missing, truncated, altered]) expect(await status(srv, `/${id}`)).toEqual({ status: 500, body: DAMAGED });
    expect((await status(srv, `/${intact}`)).status).toBe(200);
    expect(await damagedPods(srv)).toBe(3);
  } finally {
    await srv.close();
  }
}, 20_000);
