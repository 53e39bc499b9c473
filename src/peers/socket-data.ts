import type { Claim } from "../cluster/hub.ts";
import type { AuthState } from "../identity/socket-auth.ts";
import type { MessageBudget } from "./message-budget.ts";

/** Per-socket state of a /.webrtc peer. */
export interface PeerSocketData {
  kind: "peer";
  ip: string;
  room: string;
  auth: AuthState;
  budget: MessageBudget;
  /** signing-in → entering (claims being taken) → in-room; left once it is out (closed or replaced). */
  stage: "signing-in" | "entering" | "in-room" | "left";
  /** This key's hold on its place in the room, while this socket has it. */
  claim?: Claim;
  /** A newer socket of the same key took the place: this one must not give it up. */
  replaced?: boolean;
  /** Where frames for this peer are delivered, once in the room. */
  topic?: string;
}
