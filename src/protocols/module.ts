// The one shape every wire protocol takes. A protocol is a folder with a module
// that opens it from the shared context; server.ts composes the list in
// protocols/index.ts and knows nothing of any protocol's wire.
import type { Server } from "bun";
import type { Hono } from "hono";
import type { Hub } from "../cluster/hub.ts";
import type { Config } from "../config.ts";
import type { KindedData, SocketHandlers } from "../http/websockets.ts";
import type { PodBindings } from "../registry/bindings.ts";
import type { Registry } from "../registry/types.ts";
import type { Telemetry } from "../telemetry.ts";
import type { Warnings } from "../warnings.ts";

export type Settings = Omit<Config, "registry" | "dataDir">;

/** A Bun.serve route handler. */
export type Route = (req: Request, srv: Server<KindedData>) => Response | undefined | Promise<Response | undefined>;

/** A websocket path's handler, called once the shared gate admitted the client at `ip`. */
export type UpgradeRoute = (req: Request, srv: Server<KindedData>, ip: string) => Response | undefined | Promise<Response | undefined>;

/** The shared gate: the client's address if it may open one more websocket, else the refusal to send. */
export type Admit = (req: Request, srv: Server<unknown>) => string | Response;

/** What every protocol may use: settings, the cluster seam, storage, the gate and telemetry. */
export interface ProtocolContext {
  readonly settings: Settings;
  /** Delivery, ownership and presence across connections and nodes. */
  readonly hub: Hub;
  readonly registry: Registry;
  readonly bindings: PodBindings;
  /** For routes that upgrade on their own (a tunnel's visitors); declared `upgrades` pass it already. */
  readonly admit: Admit;
  /** The logger and metrics registry; protocols declare their metrics on `telemetry.metrics.registry`. */
  readonly telemetry: Telemetry;
  readonly warnings: Warnings;
  /** Hooks the embedding program passed to createSignalServer. */
  readonly hooks: { onOriginRegistered?(podId: string): void; onOriginDisconnected?(podId: string): void };
}

/** An opened protocol: what it adds to the server. */
export interface Protocol {
  /** The socket kinds its upgrades create (`data.kind`), each with its handlers. */
  readonly sockets: Record<string, SocketHandlers<any>>;
  /** Websocket paths. Each passes the shared gate (connection caps, connect rate) first and is logged as one request line. */
  readonly upgrades?: Record<string, UpgradeRoute>;
  /** Other Bun.serve routes: plain HTTP, or paths that upgrade after their own checks. */
  readonly routes?: Record<string, Route | Partial<Record<"GET" | "POST" | "PUT" | "DELETE" | "OPTIONS" | "HEAD", Route>>>;
  /** An HTTP API mounted under a prefix, before the pod routes. */
  readonly mount?: { prefix: string; app: Hono<any> };
  /** A look at requests no route matched, before the pod routes (a tunnel's own subdomain); undefined passes. */
  intercept?(req: Request, srv: Server<KindedData>): Promise<Response | undefined> | null | undefined;
  /** Settles once what it listens on beyond the HTTP port is up (a UDP port); rejects if it could not bind. */
  readonly ready?: Promise<void>;
  /** Fields on `/health`. */
  health?(): Record<string, unknown>;
  /** Fields of the console's live status. */
  status?(): Record<string, unknown>;
  /** Closes its sockets and timers; the listener stops after every protocol closed. */
  close(): void | Promise<void>;
}

export interface ProtocolModule {
  /** Names it in logs and errors. */
  readonly name: string;
  open(context: ProtocolContext): Protocol;
}
