// Our answers side by side with the `peer` 1.0.2 reference server's (run under
// Node from its npm package): the same first frame for every admission case, and
// the re-attach the reference leaves unopened (peerjs#1289) while we open it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { join } from "node:path";
import { peerjsUrl } from "../helpers/peerjs.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/ws-client.ts";
import { serviceMissing } from "../helpers/ci.ts";

const node = Bun.which("node");
const haveNode = !!node || serviceMissing("node is missing: the PeerJS reference comparison needs the Debian package nodejs");

describe.skipIf(!haveNode)("ours and the peer reference, frame for frame", () => {
  let reference: Subprocess;
  let refUrl: string;
  let ours: TestServer;

  beforeAll(async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const cli = join(import.meta.dir, "../../node_modules/peer/dist/bin/peerjs.js");
    reference = Bun.spawn([node!, cli, "--port", String(port), "--host", "127.0.0.1", "--path", "/peerjs"], { stdout: "ignore", stderr: "ignore" });
    refUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200 && !(await fetch(`${refUrl}/peerjs/peerjs/id`).then((r) => r.ok, () => false)); i++) await Bun.sleep(25);
    ours = startServer();
  });

  afterAll(async () => {
    reference?.kill();
    await ours?.close();
  });

  const firstFrame = async (base: string, query: Record<string, string>) => {
    const s = await TestSocket.open(peerjsUrl(base, query));
    const m = await s.next({}, 1500).catch(() => null);
    s.close();
    return m;
  };

  test("every admission case answers the same first frame", async () => {
    const cases = [{ key: "peerjs", token: "t" }, { key: "peerjs", id: "a" }, { id: "a", token: "t" }, { key: "wrong", id: "a", token: "t" }, { key: "peerjs", id: "fresh", token: "t" }];
    for (const q of cases) expect(await firstFrame(ours.url, q)).toEqual(await firstFrame(refUrl, q));
    const holders = await Promise.all([ours.url, refUrl].map((base) => TestSocket.open(peerjsUrl(base, { key: "peerjs", id: "held", token: "mine" }))));
    for (const h of holders) expect(await h.next()).toEqual({ type: "OPEN" });
    const taken = { key: "peerjs", id: "held", token: "yours" };
    expect(await firstFrame(ours.url, taken)).toEqual(await firstFrame(refUrl, taken));
    expect(await firstFrame(ours.url, taken)).toEqual({ type: "ID-TAKEN", payload: { msg: "ID is taken" } });
    // The same token again: the reference says nothing (the client never opens); we say OPEN.
    const again = { key: "peerjs", id: "held", token: "mine" };
    expect(await firstFrame(refUrl, again)).toBeNull();
    expect(await firstFrame(ours.url, again)).toEqual({ type: "OPEN" });
  });

  test("a forwarded message is the same object", async () => {
    const forwarded = async (base: string) => {
      const [a, b] = await Promise.all(["fa", "fb"].map((id) => TestSocket.open(peerjsUrl(base, { key: "peerjs", id, token: "t" }))));
      await Promise.all([a!.next(), b!.next()]);
      a!.send({ type: "CANDIDATE", dst: "fb", src: "forged", payload: { candidate: { candidate: "c", sdpMid: "0" }, connectionId: "dc_1", type: "data" } });
      const m = await b!.next();
      a!.close();
      b!.close();
      return m;
    };
    expect(await forwarded(ours.url)).toEqual(await forwarded(refUrl));
  });
});
