// The tunnel: a local server behind a tunnel client process (the CLI) on node 0; small
// requests and 1 MiB downloads (checked by hash) through every node. Its soak fault: the
// client process is killed (-9) and started again.
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Server, Subprocess } from "bun";
import { CLI } from "../../../test/helpers/cli.ts";
import { call } from "./http-op.ts";
import { pick, type TrafficContext, type TrafficGenerator } from "./traffic.ts";

const BIG = randomBytes(1024 * 1024);
const BIG_SHA = createHash("sha256").update(BIG).digest("hex");

export function tunnelTraffic(): TrafficGenerator {
  const name = `soak-${process.pid}`;
  let local: Server<unknown> | undefined;
  let client: Subprocess | undefined;
  let n = 0;
  const startClient = (ctx: TrafficContext) => {
    client = Bun.spawn([process.execPath, CLI, "tunnel", "--server", ctx.nodes[0]!, "--name", name, "--to", `http://127.0.0.1:${local!.port}`, "--key", join(ctx.dir, "tunnel.key")], {
      stdout: "ignore",
      stderr: "ignore",
    });
  };
  const ready = async (ctx: TrafficContext) => {
    for (let i = 0; i < 200; i++) {
      if ((await fetch(`${ctx.nodes[0]}/tunnel/${name}/small`).then((r) => r.status, () => 0)) === 200) return;
      await Bun.sleep(100);
    }
    throw new Error("the tunnel client never registered");
  };
  return {
    protocol: "tunnel",
    everyMs: 300,
    maxInFlight: 20,
    async start(ctx) {
      local = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (new URL(req.url).pathname === "/big" ? new Response(BIG) : new Response("ok")) });
      startClient(ctx);
      await ready(ctx);
    },
    async op(ctx) {
      const big = ++n % 5 === 0;
      const res = await call(`${pick(ctx.nodes)}/tunnel/${name}/${big ? "big" : "small"}`);
      const body = new Uint8Array(await res.arrayBuffer());
      if (big ? createHash("sha256").update(body).digest("hex") !== BIG_SHA : new TextDecoder().decode(body) !== "ok") throw new Error("tunnel: wrong body");
    },
    async dropClient(ctx) {
      client?.kill("SIGKILL");
      await client?.exited;
      await Bun.sleep(1000);
      startClient(ctx);
    },
    async stop() {
      client?.kill("SIGKILL");
      await client?.exited;
      local?.stop(true);
    },
  };
}
