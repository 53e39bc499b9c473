import type { Claim } from "../cluster/hub.ts";
import type { AnnounceBudget } from "./budget.ts";

/** A peer_id this socket announced first: it alone may announce, answer or stop in that name. */
export interface Binding {
  /** The peer_id as sent (binary), and its name across the cluster (see `peerTopic`). */
  peer: string;
  topic: string;
  /** Settles true once the name is this socket's across the cluster, false if someone else had it. */
  ready: Promise<boolean>;
  claim?: Claim;
}

/** Per-socket state of a tracker client. Idle sockets carry only the first three fields. */
export interface TrackerSocketData {
  kind: "tracker";
  ip: string;
  budget: AnnounceBudget;
  /** Peer ids this socket owns: almost always one, so a list (a Map costs more per idle socket). */
  ids?: Binding[];
  /** The swarms it is in, as info_hash + peer_id (binary, 40 characters); a list for the same reason. */
  joined?: string[];
  /** Frames being handled: they take effect in the order they came, even when one waits on the cluster. */
  queue?: Promise<void>;
  /** Characters of the frames in `queue`. */
  inFlight?: number;
  /** Frames refused one after another (junk, or past the budget); reset by a frame that is taken. */
  refusedInRow?: number;
}
