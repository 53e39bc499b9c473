import type { PublishBudget } from "./publish-budget.ts";

/** Per-socket state of a y-webrtc client. */
export interface YSocketData {
  kind: "y-webrtc";
  ip: string;
  /** The topics (rooms) it subscribed to. */
  topics: Set<string>;
  budget: PublishBudget;
  /** Frames that came while a subscribe was taking effect, handled in order after it; null when none is. */
  queue: (string | Buffer)[] | null;
  queuedBytes: number;
  closed: boolean;
}
