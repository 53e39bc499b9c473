#!/usr/bin/env bun
import { ConfigError, parseArgs } from "./config.ts";
import { runHealthcheck } from "./healthcheck.ts";
import { DataDirInUseError } from "./registry/data-dir-lock.ts";
import { openRegistry } from "./registry/open.ts";
import { createSignalServer } from "./server.ts";
import { usage } from "./usage.ts";
import { runTunnel } from "./tunnel/command.ts";
import { VERSION } from "./version.ts";

async function main(): Promise<void> {
  let command;
  try {
    command = parseArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`gemmapod-signal: ${error.message}`);
    process.exit(2);
  }
  if (command.kind === "help") return console.log(usage());
  if (command.kind === "version") return console.log(VERSION);
  if (command.kind === "healthcheck") return void runHealthcheck(command.url).then((code) => process.exit(code));
  if (command.kind === "tunnel") {
    return void runTunnel(command.tunnel).then(
      (code) => process.exit(code),
      (error) => {
        console.error(`gemmapod-signal tunnel: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  }

  const { config } = command;
  let registry;
  try {
    registry = await openRegistry(config);
  } catch (error) {
    // Another server on the same data dir is a usage error (2); an unreachable database is a failure (1).
    if (error instanceof DataDirInUseError) {
      console.error(`gemmapod-signal: ${error.message}`);
      process.exit(2);
    }
    console.error(`gemmapod-signal: cannot open the ${config.registry} registry: ${(error as Error).message}`);
    process.exit(1);
  }
  const server = createSignalServer({ ...config, registry });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`gemmapod-signal: ${signal}, shutting down`);
    server.close().then(
      () => process.exit(0),
      (error) => {
        console.error("gemmapod-signal: shutdown failed:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // Announced only once a supervisor's SIGTERM would shut down cleanly.
  console.log(`gemmapod-signal listening on ${server.url} (registry: ${config.registry})`);
}

void main();
