// The WebSocket tracker's frames, as bittorrent-tracker 11.x and its clients speak them:
// JSON text; info_hash, peer_id, to_peer_id and offer_id are 20-character binary strings
// (code points 0–255, NUL included). Everything is validated here; the rest of the tracker
// sees only these shapes.
import { jsonObject } from "../http/json-frame.ts";
import { textOverLimit } from "../limits/frame-size.ts";

export type TrackerEvent = "started" | "stopped" | "completed" | "update" | "paused";
const EVENTS: ReadonlySet<string> = new Set(["started", "stopped", "completed", "update", "paused"]);

/** A session description as the clients send it: only these two fields are relayed. */
export interface Description {
  type: string;
  sdp: string;
}

export interface Offer {
  offerId: string;
  offer: Description;
}

/** What an announce says about its peer, whether it carries offers or an answer. */
interface AnnounceBase {
  infoHash: string;
  peerId: string;
  event: TrackerEvent;
  /** `left: 0`: it has the whole torrent. */
  seeder: boolean;
}

export type TrackerRequest =
  | ({ action: "announce"; offers: Offer[] } & AnnounceBase)
  /** An announce carrying an answer to one offer: relayed to `toPeerId`, no reply. */
  | ({ action: "answer"; toPeerId: string; offerId: string; answer: Description } & AnnounceBase)
  | { action: "scrape"; infoHashes: string[] };

/** A refusal; `infoHash` once the frame got far enough to name its swarm (then clients see whose it is). */
export type Refusal = { error: string; action?: "announce" | "scrape"; infoHash?: string };

export interface WireLimits {
  maxOffers: number;
  maxSdpBytes: number;
  /** info_hash values in one scrape. */
  maxScrapeHashes: number;
}

/** Validates one text frame. Never throws: hostile input becomes a refusal. */
export function parseTrackerFrame(text: string, limits: WireLimits): TrackerRequest | Refusal {
  const m = jsonObject(text);
  if (typeof m === "string") return { error: m };
  if (m.action === "announce") return parseAnnounce(m, limits);
  if (m.action === "scrape") return parseScrape(m, limits);
  return { error: `invalid action in WS request: ${String(m.action).slice(0, 32)}` };
}

function parseAnnounce(m: Record<string, unknown>, limits: WireLimits): TrackerRequest | Refusal {
  const { info_hash: infoHash, peer_id: peerId } = m;
  // The reference's own messages for these two.
  if (!isBinaryId(infoHash)) return { error: "invalid info_hash" };
  if (!isBinaryId(peerId)) return { error: "invalid peer_id" };
  const refuse = (error: string): Refusal => ({ error, action: "announce", infoHash });
  const event = m.event === undefined || m.event === null || m.event === "" || m.event === "empty" ? "update" : m.event;
  if (typeof event !== "string" || !EVENTS.has(event)) return refuse("invalid event");
  const seeder = Number(m.left) === 0;
  if (m.answer !== undefined && m.answer !== null) {
    if (!isBinaryId(m.to_peer_id)) return refuse("invalid `to_peer_id` (required with `answer`)");
    if (!isBinaryId(m.offer_id)) return refuse("invalid offer_id");
    const answer = description(m.answer, "answer", limits.maxSdpBytes);
    if (typeof answer === "string") return refuse(answer);
    return { action: "answer", infoHash, peerId, event: event as TrackerEvent, seeder, toPeerId: m.to_peer_id, offerId: m.offer_id, answer };
  }
  const offers = parseOffers(m.offers, limits);
  return typeof offers === "string" ? refuse(offers) : { action: "announce", infoHash, peerId, event: event as TrackerEvent, seeder, offers };
}

function parseOffers(raw: unknown, limits: WireLimits): Offer[] | string {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return "offers must be an array";
  if (raw.length > limits.maxOffers) return `too many offers (at most ${limits.maxOffers})`;
  const offers: Offer[] = [];
  for (const entry of raw) {
    // The reference throws on a null entry; here it is a refusal like any other.
    if (typeof entry !== "object" || entry === null) return "each offer must be {offer_id, offer}";
    const { offer_id: offerId, offer } = entry as Record<string, unknown>;
    if (!isBinaryId(offerId)) return "invalid offer_id";
    const described = description(offer, "offer", limits.maxSdpBytes);
    if (typeof described === "string") return described;
    offers.push({ offerId, offer: described });
  }
  return offers;
}

function parseScrape(m: Record<string, unknown>, limits: WireLimits): TrackerRequest | Refusal {
  const raw = m.info_hash;
  // No scrape-all: the reference lists every swarm to anyone who leaves info_hash out.
  if (raw === undefined || raw === null) return { error: "scrape needs info_hash (one or an array)", action: "scrape" };
  const hashes = Array.isArray(raw) ? raw : [raw];
  if (hashes.length === 0 || hashes.length > limits.maxScrapeHashes) return { error: `scrape takes 1 to ${limits.maxScrapeHashes} info_hash values`, action: "scrape" };
  if (!hashes.every(isBinaryId)) return { error: "invalid info_hash", action: "scrape" };
  return { action: "scrape", infoHashes: [...new Set(hashes)] };
}

function description(raw: unknown, type: "offer" | "answer", maxSdpBytes: number): Description | string {
  if (typeof raw !== "object" || raw === null) return `${type} must be {type, sdp}`;
  const { type: t, sdp } = raw as Record<string, unknown>;
  if (t !== type || typeof sdp !== "string") return `${type} must be {type: "${type}", sdp: string}`;
  if (textOverLimit(sdp, maxSdpBytes)) return `${type} sdp is over ${maxSdpBytes} bytes`;
  return { type, sdp };
}

/** A 20-character binary string: every code point 0–255. */
export function isBinaryId(v: unknown): v is string {
  if (typeof v !== "string" || v.length !== 20) return false;
  for (let i = 0; i < 20; i++) if (v.charCodeAt(i) > 0xff) return false;
  return true;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A binary id as 40 hex characters: how it is named across the cluster. (Faster than a Buffer here.) */
export function hexOf(id: string): string {
  let out = "";
  for (let i = 0; i < id.length; i++) out += HEX[id.charCodeAt(i)];
  return out;
}

/** What the server sends; `failure reason` alone for a frame it could not read. */
export function failureFrame(r: Refusal): string {
  return JSON.stringify(r.action ? { action: r.action, "failure reason": r.error, ...(r.infoHash !== undefined && { info_hash: r.infoHash }) } : { "failure reason": r.error });
}
