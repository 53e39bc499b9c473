// Options of `/signal`: who may register a pod's origin, and how many sessions one negotiates.
import { integer, oneOf } from "../config-values.ts";
import { flag } from "../flags.ts";

export const SIGNAL_FLAGS = {
  originAuth: flag({
    flag: "--origin-auth",
    env: ["GEMMAPOD_SIGNAL_ORIGIN_AUTH"],
    value: "MODE",
    help: "open: anyone registers any pod; claimed: pods bound to an owner key need its proof; required: every register needs one",
    parse: oneOf(["open", "claimed", "required"] as const),
    default: "open",
  }),
  maxSessionsPerSocket: flag({ flag: "--max-sessions-per-socket", env: ["GEMMAPOD_SIGNAL_MAX_SESSIONS_PER_SOCKET"], value: "N", help: "sessions one visitor socket may negotiate at once", parse: integer(1, 100_000), default: 8 }),
  maxSessionsPerPod: flag({ flag: "--max-sessions-per-pod", env: ["GEMMAPOD_SIGNAL_MAX_SESSIONS_PER_POD"], value: "N", help: "sessions being negotiated with one pod at once", parse: integer(1, 10_000_000), default: 256 }),
  sessionAnswerTimeoutMs: flag({ flag: "--session-answer-timeout", env: ["GEMMAPOD_SIGNAL_SESSION_ANSWER_TIMEOUT"], value: "MS", help: "a session with no answer by then ends; both sides are told", parse: integer(100, 3_600_000), default: 30_000 }),
};
