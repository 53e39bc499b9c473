// Tracker clients for `WS /announce` tests: 20-character binary ids as WebTorrent makes them
// (the whole 0–255 range, NUL included) and announce frames.
import { afterAll, beforeAll } from "bun:test";
import { startNodes } from "./cluster.ts";
import { startRedis, type TestRedis } from "./redis.ts";
import type { CreateSignalServerOptions } from "../../src/server.ts";
import { startServer, type TestServer } from "./server.ts";
import { TestSocket, type Json } from "./ws-client.ts";

/** A random 20-character binary string; the first character is NUL, so every test covers it. */
export function binaryId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  bytes[0] = 0;
  return String.fromCharCode(...bytes);
}

export function trackerUrl(srv: TestServer, path = "/announce"): string {
  return `${srv.url.replace(/^http/, "ws")}${path}`;
}

export interface TrackerPeer {
  socket: TestSocket;
  peerId: string;
  /** Sends an announce for `infoHash` with these fields. */
  announce(infoHash: string, fields?: Json): void;
}

export async function trackerPeer(url: string, peerId = binaryId()): Promise<TrackerPeer> {
  const socket = await TestSocket.open(url);
  return { socket, peerId, announce: (infoHash, fields = {}) => socket.send({ action: "announce", info_hash: infoHash, peer_id: peerId, numwant: 5, uploaded: 0, downloaded: 0, left: 100, ...fields }) };
}

/**
 * Asserts nothing matching `match` reached `socket` before the answer to a scrape sent
 * now: whatever the tracker sent it earlier comes first (a marker, not a silence).
 */
export async function nothingBeforeScrape(socket: TestSocket, match: Parameters<TestSocket["nothingBefore"]>[0]): Promise<void> {
  socket.send({ action: "scrape", info_hash: binaryId() });
  await socket.nothingBefore(match, (m) => m.files !== undefined);
}

/** `n` offers with fresh ids, in the shape the clients send. */
export function offers(n: number, sdp = "v=0 offer"): Json[] {
  return Array.from({ length: n }, () => ({ offer_id: binaryId(), offer: { type: "offer", sdp } }));
}

/** A peer that announced into `infoHash` and got its reply. */
export async function joinedPeer(url: string, infoHash: string, fields?: Json): Promise<TrackerPeer> {
  const peer = await trackerPeer(url);
  peer.announce(infoHash, fields);
  await peer.socket.next({ action: "announce", info_hash: infoHash });
  return peer;
}

/** One server for the calling test file (or describe block), with its tracker URL once started. */
export function trackerForFile(options: Partial<CreateSignalServerOptions> = {}): { srv: () => TestServer; url: () => string } {
  let srv: TestServer;
  beforeAll(() => {
    srv = startServer(options);
  });
  afterAll(() => srv?.close());
  return { srv: () => srv, url: () => trackerUrl(srv) };
}

/** Two cluster nodes on a fresh Redis for the calling describe block; their tracker URLs once started. */
export function twoTrackerNodes(options: Partial<CreateSignalServerOptions> = {}): () => [string, string] {
  let redis: TestRedis;
  let nodes: TestServer[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    nodes = await startNodes(redis.url, 2, options);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await redis?.stop();
  });
  return () => [trackerUrl(nodes[0]!), trackerUrl(nodes[1]!)];
}
