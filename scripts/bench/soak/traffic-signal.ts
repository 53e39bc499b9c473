// GemmaPod sessions on WS /signal: one origin per node (reconnecting), visitors on other
// nodes offering and waiting for the answer, so every session crosses Redis.
import { Unanswered } from "./op-log.ts";
import { twoNodes, wsUrl, type TrafficContext, type TrafficGenerator } from "./traffic.ts";
import { openSocket } from "./ws-wait.ts";

const podId = (i: number) => `soak-pod-${process.pid}-${i}`;

/** An origin that registers its pod and answers every offer, and comes back when its socket drops. */
function keepOrigin(url: string, pod: string, stopped: () => boolean, open: Set<WebSocket>): void {
  const connect = () => {
    if (stopped()) return;
    const ws = new WebSocket(url);
    open.add(ws);
    ws.onopen = () => ws.send(JSON.stringify({ t: "register", podId: pod }));
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data));
      if (m.t === "offer") ws.send(JSON.stringify({ t: "answer", sessionId: m.sessionId, sdp: `answer to ${m.sessionId}` }));
    };
    ws.onclose = () => (open.delete(ws), setTimeout(connect, 300));
  };
  connect();
}

export function signalTraffic(): TrafficGenerator {
  let stopped = false;
  const origins = new Set<WebSocket>();
  return {
    protocol: "/signal sessions",
    everyMs: 250,
    maxInFlight: 40,
    async start(ctx: TrafficContext) {
      ctx.nodes.forEach((base, i) => keepOrigin(wsUrl(base, "/signal"), podId(i), () => stopped, origins));
      await Bun.sleep(1000);
    },
    async op(ctx: TrafficContext) {
      const [origin, visitor] = twoNodes(ctx.nodes.length);
      const ws = await openSocket(wsUrl(ctx.nodes[visitor]!, "/signal"));
      try {
        const sessionId = crypto.randomUUID();
        ws.send({ t: "offer", podId: podId(origin), sessionId, sdp: "offer" });
        const answer = await ws.next((m) => m.t === "answer" && m.sessionId === sessionId, (m) => m.t === "error", "answer or error to an offer");
        if (answer.sdp !== `answer to ${sessionId}`) throw new Error("wrong answer relayed");
      } catch (error) {
        if (error instanceof Unanswered) throw error;
        throw new Error(`signal: ${(error as Error).message}`);
      } finally {
        ws.close();
      }
    },
    async stop() {
      stopped = true;
      for (const ws of origins) ws.close();
    },
  };
}
