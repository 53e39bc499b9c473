import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryRegistry } from "../../src/registry/memory.ts";
import type { Registry } from "../../src/registry/types.ts";
import { createSignalServer, type CreateSignalServerOptions, type SignalServer } from "../../src/server.ts";

export interface TestServer {
  url: string;
  wsUrl: string;
  server: SignalServer;
  registry: Registry;
  close(): Promise<void>;
}

/** An in-process server on a free loopback port. */
export function startServer(options: Partial<CreateSignalServerOptions> = {}): TestServer {
  const registry = options.registry ?? new MemoryRegistry();
  // Request lines would drown the test output; tests of the logs ask for them.
  const server = createSignalServer({ port: 0, hostname: "127.0.0.1", logLevel: "error", ...options, registry });
  return {
    url: server.url,
    wsUrl: `${server.url.replace(/^http/, "ws")}/signal`,
    server,
    registry,
    close: () => server.close(),
  };
}

export function tempDir(prefix = "gemmapod-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs `body` against a fresh server that is closed afterwards, pass or fail. */
export async function withServer(options: Partial<CreateSignalServerOptions>, body: (srv: TestServer) => Promise<void>): Promise<void> {
  const srv = startServer(options);
  try {
    await body(srv);
  } finally {
    await srv.close();
  }
}
