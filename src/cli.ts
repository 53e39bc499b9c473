#!/usr/bin/env bun
import { ConfigError, parseArgs, usage } from "./config.ts";
import { runHealthcheck } from "./healthcheck.ts";
import { errorFields, Logger } from "./log/logger.ts";
import { openRegistry } from "./registry/open.ts";
import { createSignalServer, type SignalServer } from "./server.ts";
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
  const log = new Logger({ level: config.logLevel, format: config.logFormat });
  let server: SignalServer;
  try {
    server = createSignalServer({ ...config, registry: openRegistry(config), logger: log });
  } catch (error) {
    // A missing certificate, a port in use, an unreadable data dir: say which and stop.
    log.error("could not start", errorFields(error));
    log.flush();
    process.exit(1);
  }
  log.notice(`gemmapod-signal listening on ${server.url}`, { registry: config.registry, version: VERSION });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.notice("shutting down", { signal });
    const exit = (code: number) => {
      log.flush();
      process.exit(code);
    };
    server.close().then(
      () => exit(0),
      (error) => {
        log.error("shutdown failed", errorFields(error));
        exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // Windows has no SIGHUP; elsewhere it re-reads the TLS certificate (e.g. after a renewal).
  if (process.platform !== "win32") process.on("SIGHUP", () => void server.reloadTls());
}

main();
