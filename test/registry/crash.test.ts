// SIGKILL the server in the middle of concurrent uploads, restart it, and check
// that nothing half-written survives: every record has its blob, every blob is
// byte-identical to what was uploaded and verifies, and SQLite is intact.
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { verifyPodBlob } from "../../src/manifest/verify.ts";
import { killMidUpload } from "../helpers/crash.ts";
import { spawnServer } from "../helpers/cli.ts";
import { buildPod } from "../helpers/pods.ts";
import { tempDir } from "../helpers/server.ts";

const pods = [buildPod({ podId: "crash-a" }), buildPod({ podId: "crash-b" })];
const LIMITS = ["--upload-rate", "1000000"];

test("uploads interrupted by SIGKILL leave no record without its blob", async () => {
  const dir = tempDir();
  const args = ["--registry", "sqlite", "--data-dir", dir, ...LIMITS];
  let acknowledged = 0;
  for (const killAfterMs of [40, 120, 250, 400]) {
    const server = await spawnServer(args);
    acknowledged += await killMidUpload(server, pods, { uploaders: 6, killAfterMs, waitForFirst: false });
  }

  const server = await spawnServer(args);
  try {
    const db = new Database(join(dir, "gemmapod.sqlite"), { readonly: true });
    const rows = db.query<{ id: string; owner_pubkey: string; blob_size: number }, []>("SELECT id, owner_pubkey, blob_size FROM pods").all();
    db.close();
    expect(rows.length).toBeGreaterThan(0);
    // Acknowledged uploads were durable before the 200 went out.
    expect(rows.length).toBeGreaterThanOrEqual(acknowledged);
    for (const row of rows) {
      const res = await fetch(`${server.url}/${row.id}`);
      expect(res.status).toBe(200);
      const served = new Uint8Array(await res.arrayBuffer());
      const original = pods.find((p) => p.key.publicKey === row.owner_pubkey)!;
      expect(served).toEqual(original.bytes);
      await verifyPodBlob(served);
    }
    // No temp files and no blob without a row.
    expect(readdirSync(join(dir, "blobs")).sort()).toEqual(rows.map((r) => `${r.id}.html`).sort());
  } finally {
    expect(await server.stop()).toBe(0);
  }
  const db = new Database(join(dir, "gemmapod.sqlite"), { readonly: true });
  expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
  db.close();
}, 60_000);
