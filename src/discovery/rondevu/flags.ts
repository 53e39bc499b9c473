// Options of the Rondevu HTTP discovery API.
import { integer, size, pathPrefix } from "../../config-values.ts";
import { flag } from "../../flags.ts";

export const RONDEVU_FLAGS = {
  rondevuPrefix: flag({ flag: "--rondevu-prefix", env: ["GEMMAPOD_SIGNAL_RONDEVU_PREFIX"], value: "PATH", help: "where the Rondevu HTTP discovery API is mounted", parse: pathPrefix, default: "/rondevu" }),
  sessionTimeoutMs: flag({ flag: "--session-timeout", env: ["SESSION_TIMEOUT"], value: "MS", help: "Rondevu sessions expire this many ms after creation", parse: integer(1000, 24 * 3600 * 1000), default: 300_000 }),
  rondevuMaxSdpBytes: flag({ flag: "--rondevu-max-sdp-bytes", env: ["GEMMAPOD_SIGNAL_RONDEVU_MAX_SDP_BYTES"], value: "SIZE", help: "largest Rondevu offer, answer or candidate", parse: size(256, 16 * 1024 * 1024), default: 64 * 1024 }),
  rondevuMaxCandidates: flag({ flag: "--rondevu-max-candidates", env: ["GEMMAPOD_SIGNAL_RONDEVU_MAX_CANDIDATES"], value: "N", help: "candidates per side of a Rondevu session", parse: integer(1, 100_000), default: 64 }),
  rondevuMaxSessionsPerTopic: flag({ flag: "--rondevu-max-sessions-per-topic", env: ["GEMMAPOD_SIGNAL_RONDEVU_MAX_SESSIONS_PER_TOPIC"], value: "N", help: "live Rondevu sessions per origin and topic", parse: integer(1, 10_000_000), default: 1000 }),
  rondevuMaxSessions: flag({ flag: "--rondevu-max-sessions", env: ["GEMMAPOD_SIGNAL_RONDEVU_MAX_SESSIONS"], value: "N", help: "live Rondevu sessions in all (the memory bound)", parse: integer(1, 10_000_000), default: 20_000 }),
  rondevuRate: flag({ flag: "--rondevu-rate", env: ["GEMMAPOD_SIGNAL_RONDEVU_RATE"], value: "N", help: "Rondevu requests per second per client address (burst twice that)", parse: integer(1, 1_000_000), default: 50 }),
};
