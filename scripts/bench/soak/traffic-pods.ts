// Pods: uploaded through one node (POST /pods: Postgres records, S3 pages), fetched through
// another, byte for byte. At the end every pod that was acknowledged must still be served.
import { buildPod, type BuiltPod } from "../../../test/helpers/pods.ts";
import { call } from "./http-op.ts";
import { twoNodes, type TrafficContext, type TrafficGenerator } from "./traffic.ts";

export function podTraffic(): TrafficGenerator {
  let pods: BuiltPod[] = [];
  const stored = new Map<string, Uint8Array>();
  const same = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
  return {
    protocol: "pods",
    everyMs: 1000,
    maxInFlight: 10,
    async start() {
      pods = [0, 1, 2].map((i) => buildPod({ podId: `soak-pod-page-${i}`, name: `Soak ${i}` }));
    },
    async op(ctx: TrafficContext) {
      const [i, j] = twoNodes(ctx.nodes.length);
      const pod = pods[Math.floor(Math.random() * pods.length)]!;
      const res = await call(`${ctx.nodes[i]}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
      const { id } = (await res.json()) as { id: string };
      stored.set(id, pod.bytes);
      const page = new Uint8Array(await (await call(`${ctx.nodes[j]}/${id}`, { headers: { "Accept-Encoding": "identity" } })).arrayBuffer());
      if (!same(page, pod.bytes)) throw new Error("pods: the page served differs from the one uploaded");
    },
    async lost(ctx) {
      let lost = 0;
      for (const [id, bytes] of stored) {
        const res = await fetch(`${ctx.nodes[0]}/${id}`, { headers: { "Accept-Encoding": "identity" } }).catch(() => null);
        if (!res || res.status !== 200 || !same(new Uint8Array(await res.arrayBuffer()), bytes)) lost++;
      }
      return { stored: stored.size, lost };
    },
  };
}
