import type { Claim } from "../cluster/hub.ts";
import type { MessageBudget } from "../peers/message-budget.ts";

/** Per-socket state of a PeerJS client. The token itself is not kept: only its digest. */
export interface PeerjsSocketData {
  kind: "peerjs";
  ip: string;
  /** The query as given; an empty string when missing. */
  key: string;
  id: string;
  /** Of the token given (see names.ts), or "" when none was. */
  digest: string;
  budget: MessageBudget;
  /** admitting (checks and claim) → open (OPEN sent, messages flow) → closed. */
  stage: "admitting" | "open" | "closed";
  /** The hold on the id, while this socket has it. */
  claim?: Claim;
  /** Frames that came before OPEN, handled once it is sent. */
  early: string[];
  /** When the last HEARTBEAT (or OPEN) was. */
  aliveAt: number;
}
