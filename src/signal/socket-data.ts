import type { Claim } from "../cluster/hub.ts";
import { newNonce } from "../identity/encoding.ts";
import type { BudgetedSocket } from "../limits/frame-budget.ts";

/** Per-socket state, kept small: idle origins are the broker's main memory cost. */
export interface SocketData extends BudgetedSocket {
  kind: "signal";
  /** The client's address (counted per address while open). */
  ip: string;
  /** `registering` while an ownerToken is being checked. */
  role: "none" | "registering" | "origin" | "visitor";
  /** This socket's challenge: an ownerToken must sign it. */
  nonce: string;
  /** An origin that proved it holds the pod's owner key. */
  proven?: boolean;
  /** An origin's hold on its pod id, given up when it leaves. */
  claim?: Claim;
  /** The pod an origin registered. */
  podId?: string;
  /** Sessions a visitor opened, freed when it leaves. */
  sessions?: Set<string>;
}

export function newSocketData(burst: number, ip: string): SocketData {
  return { kind: "signal", ip, role: "none", nonce: newNonce(), tokens: burst, refilledAt: performance.now(), spare: 0 };
}
