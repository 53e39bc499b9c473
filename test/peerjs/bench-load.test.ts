// The PeerJS bench's load generator, run once in a tiny form against our server
// and the bare floor, so that the suite cannot rot. No timing here.
import { afterAll, expect, test } from "bun:test";
import { startBarePeerjs } from "../../scripts/bench/bare-peerjs.ts";
import { runPeerjsLoad } from "../../scripts/bench/peerjs-load.ts";
import { startServer } from "../helpers/server.ts";

const bare = startBarePeerjs({ port: 0, hostname: "127.0.0.1" });
const ours = startServer({ wsConnectRate: 1_000_000, peerjsMessageRate: 1_000_000 });
afterAll(async () => {
  bare.stop(true);
  await ours.close();
});

for (const [name, url] of [
  ["the bare floor", `http://127.0.0.1:${bare.port}`],
  ["our server", ours.url],
] as const) {
  test(`against ${name}: pairs keep negotiating; every connect gets its OPEN`, async () => {
    const forward = await runPeerjsLoad({ url, mode: "forward", pairs: 2, connects: 0, concurrency: 0, seconds: 0.3 });
    expect(forward.count).toBeGreaterThan(20); // more than two rounds, even on a loaded box
    const connect = await runPeerjsLoad({ url, mode: "connect", pairs: 0, connects: 60, concurrency: 6, seconds: 0, serverPid: process.pid });
    expect(connect.count).toBe(60);
    expect(connect.serverCpuMs).toBeNumber();
  });
}
