#!/usr/bin/env bun
import { ConfigError, parseArgs } from "./config.ts";
import { runHealthcheck } from "./healthcheck.ts";
import { listeningLine } from "./local-url.ts";
import { errorFields, Logger } from "./log/logger.ts";
import { DataDirInUseError } from "./registry/data-dir-lock.ts";
import { openRegistry } from "./registry/open.ts";
import { createSignalServer, type SignalServer } from "./server.ts";
import { runTunnel } from "./tunnel/command.ts";
import { usage } from "./usage.ts";
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
  const log = new Logger({ level: config.logLevel, format: config.logFormat });
  let registry;
  try {
    registry = await openRegistry(config);
  } catch (error) {
    // Another server on the same data dir is a usage error (2); an unreachable database is a failure (1).
    console.error(`gemmapod-signal: ${error instanceof DataDirInUseError ? error.message : `cannot open the ${config.registry} registry: ${(error as Error).message}`}`);
    process.exit(error instanceof DataDirInUseError ? 2 : 1);
  }
  let server: SignalServer;
  try {
    server = createSignalServer({ ...config, registry, logger: log });
  } catch (error) {
    // A missing certificate, a port in use: say which and stop.
    log.error("could not start", errorFields(error));
    log.flush();
    process.exit(1);
  }

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
  // Announced once every listener is up (the UDP --stun-port too) and a supervisor's SIGTERM would shut down cleanly.
  server.ready.then(
    () => log.notice(listeningLine(config.hostname, server.port, server.url, config.publicUrl), { registry: config.registry, version: VERSION, ...(config.stunPort ? { stun: `udp/${config.stunPort}` } : {}) }),
    (error) => {
      log.error("could not start", errorFields(error));
      log.flush();
      process.exit(1);
    },
  );
}

void main();
