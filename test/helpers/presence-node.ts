// A bare cluster hub in its own process (so a test can kill -9 it): joins a group with a
// farewell and prints the other members. argv: redis url, ttl ms, group, member, topic, farewell.
import type { Server } from "bun";
import { RedisHub } from "../../src/cluster/redis-hub.ts";

const [url, ttl, group, member, topic, data] = process.argv.slice(2) as [string, string, string, string, string, string];
const server: Server<unknown> = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("no"), websocket: { message() {} } });
const hub = new RedisHub({ url, ttlMs: Number(ttl), server: () => server });
await hub.ready;
const others = await hub.join(group, member, { topic, data });
console.log(`joined ${JSON.stringify(others)}`);
