// Rondevu over HTTP: an offer on one node, the answer on another, the offerer's poll on a
// third sees it (sessions live in Postgres, wake-ups cross Redis), then the offerer leaves.
import { postJson } from "./http-op.ts";
import { pick, twoNodes, type TrafficContext, type TrafficGenerator } from "./traffic.ts";

export function rondevuTraffic(prefix = "/rondevu"): TrafficGenerator {
  return {
    protocol: "Rondevu",
    everyMs: 500,
    maxInFlight: 20,
    async op(ctx: TrafficContext) {
      const [i, j] = twoNodes(ctx.nodes.length);
      const at = (n: number, path: string) => `${ctx.nodes[n]}${prefix}${path}`;
      const { code, secret } = await postJson(at(i, "/soak/offer"), { info: "soak", offer: "soak offer" });
      await postJson(at(j, "/answer"), { code, side: "answerer", answer: `answer ${code}` });
      const poll = await postJson(at(pick([0, 1, 2].filter((n) => n < ctx.nodes.length)), "/poll"), { code, side: "offerer", since: 0 });
      if (poll.answer !== `answer ${code}`) throw new Error(`poll saw ${JSON.stringify(poll.answer)}`);
      await postJson(at(i, "/leave"), { code, secret });
    },
  };
}
