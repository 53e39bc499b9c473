// A cluster node as its own process (so a test can kill -9 it): the library path,
// createSignalServer with a memory registry, flags parsed like the CLI's. The CLI
// refuses --cluster without shared storage; /signal routing needs none, so the
// Redis URL comes in the environment, apart from the flags.
import { parseArgs } from "../../src/config.ts";
import { listeningLine } from "../../src/local-url.ts";
import { MemoryRegistry } from "../../src/registry/memory.ts";
import { createSignalServer } from "../../src/server.ts";

const { CLUSTER_NODE_REDIS: cluster, ...env } = process.env;
const command = parseArgs(process.argv.slice(2), env);
if (command.kind !== "serve") throw new Error("cluster-node takes server flags only");
const server = createSignalServer({ ...command.config, cluster, registry: new MemoryRegistry() });
// The CLI's start-up line, which spawnServer (helpers/cli.ts) waits for.
console.log(listeningLine(command.config.hostname, server.port, server.url, command.config.publicUrl));
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
