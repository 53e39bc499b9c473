// The console's bounded parts on their own: the per-second history ring and
// the viewer set that drops a console which stops reading.
import { expect, test } from "bun:test";
import { LiveViewers } from "../../src/console/live-viewers.ts";
import { RateHistory } from "../../src/console/rate-history.ts";

test("the history keeps per-second increments of a counter, a fixed window of them", () => {
  const history = new RateHistory(4);
  history.record(10); // the baseline
  history.record(12);
  history.record(12);
  expect(history.values()).toEqual([0, 2, 0]);
  history.record(15);
  history.record(16);
  history.record(3); // a counter that went backwards counts as nothing
  expect(history.values()).toEqual([0, 3, 1, 0]);
});

test("a viewer that stops reading is dropped after a bounded backlog; one that reads is kept", async () => {
  const viewers = new LiveViewers({ maxViewers: 10, maxPerAddress: 10 });
  const stalled = viewers.open("10.0.0.1", "{}");
  const reading = viewers.open("10.0.0.2", "{}");
  const reader = reading.body!.getReader();
  expect(viewers.count()).toBe(2);
  for (let i = 0; i < 29; i++) {
    viewers.broadcast(`{"tick":${i}}`);
    await reader.read();
  }
  expect(viewers.count()).toBe(2); // half a minute behind is still tolerated
  for (let i = 0; i < 5; i++) {
    viewers.broadcast(`{"tick":${i}}`);
    await reader.read();
  }
  expect(viewers.count()).toBe(1);
  // The dropped stream errors rather than keeping its unread backlog.
  await expect(stalled.body!.getReader().read()).rejects.toThrow("viewer stopped reading");
  viewers.closeAll();
  // Closing ends the stream cleanly, after what was already queued.
  let chunks = 0;
  while (!(await reader.read()).done) chunks++;
  expect(chunks).toBe(1);
  expect(viewers.open("10.0.0.3", "{}").status).toBe(503);
});
