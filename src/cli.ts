#!/usr/bin/env bun
import { ConfigError, parseArgs, usage } from "./config.ts";
import { runHealthcheck } from "./healthcheck.ts";
import { openRegistry } from "./registry/open.ts";
import { createSignalServer } from "./server.ts";
import { VERSION } from "./version.ts";

function main(): void {
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

  const { config } = command;
  const registry = openRegistry(config);
  const server = createSignalServer({ ...config, registry });
  server.ready.then(
    () => console.log(`gemmapod-signal listening on ${server.url} (registry: ${config.registry})${config.stunPort ? `, STUN on udp/${config.stunPort}` : ""}`),
    (error) => {
      console.error(`gemmapod-signal: ${error.message}`);
      process.exit(1);
    },
  );

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
}

main();
