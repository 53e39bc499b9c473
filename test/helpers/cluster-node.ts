// A cluster node as its own process (so a test can kill -9 it): the library path,
// createSignalServer with a memory registry, flags parsed like the CLI's.
import { parseArgs } from "../../src/config.ts";
import { MemoryRegistry } from "../../src/registry/memory.ts";
import { createSignalServer } from "../../src/server.ts";

const command = parseArgs(process.argv.slice(2), process.env);
if (command.kind !== "serve") throw new Error("cluster-node takes server flags only");
const server = createSignalServer({ ...command.config, registry: new MemoryRegistry() });
console.log(`cluster node listening on ${server.url}`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
