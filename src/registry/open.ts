import type { Config } from "../config.ts";
import { MemoryRegistry } from "./memory.ts";
import { SqliteRegistry } from "./sqlite.ts";
import type { Registry } from "./types.ts";

/** The embedded registries the command line can choose from. */
export function openRegistry(config: Pick<Config, "registry" | "dataDir">): Registry {
  return config.registry === "sqlite" ? new SqliteRegistry({ dataDir: config.dataDir }) : new MemoryRegistry();
}
