// A 60-second chaos soak (the bench's `--only soak` runs it for 10 minutes): three nodes
// on real Redis, Postgres and S3, traffic on every protocol, six faults one after another
// (two of them two faults at once).
// Nothing may fail outside a fault window, nothing may go unanswered, no pod may be lost.
import { expect, setDefaultTimeout, test } from "bun:test";
import { runSoak } from "../../scripts/bench/soak/run-soak.ts";
import { soakMarkdown } from "../../scripts/bench/soak/soak-report.ts";
import { redisOrSkip } from "../helpers/redis.ts";

setDefaultTimeout(240_000);

test.skipIf(!redisOrSkip())("60 s of faults under traffic: no failure outside a fault window, none unanswered, no pod lost", async () => {
  const report = await runSoak({ seconds: 60, spacingMs: 8000 });
  if (!report) return; // services.ts said what to install (and fails under CI=true)
  console.log(soakMarkdown(report, { commit: "(test)", date: new Date().toISOString(), command: "bun test test/cluster/soak.test.ts" }));
  expect(report.faults.length).toBeGreaterThanOrEqual(6);
  // Several faults at once, as users meet them: both overlapping kinds come among the first six.
  expect(report.faults.map((f) => f.name)).toEqual(expect.arrayContaining(["Postgres and S3 stopped together", "a node killed (-9) while Redis is frozen"]));
  for (const p of report.protocols) {
    expect({ protocol: p.protocol, failedOutside: p.failedOutside, unanswered: p.unanswered, examples: p.examples }).toEqual({ protocol: p.protocol, failedOutside: 0, unanswered: 0, examples: [] });
    expect(p.ok).toBeGreaterThan(p.tried / 2);
    // The windows cover most of a 60-second run: "failed outside" must still rest on some operations.
    expect(p.triedOutside).toBeGreaterThan(4);
  }
  expect(report.protocols.map((p) => p.protocol).sort()).toEqual(["/.webrtc rooms", "/signal sessions", "PeerJS", "Rondevu", "pods", "tracker", "tunnel", "y-webrtc"].sort());
  expect(report.pods.stored).toBeGreaterThan(10);
  expect(report.pods.lost).toBe(0);
});
