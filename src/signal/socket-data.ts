import type { BudgetedSocket } from "../limits/frame-budget.ts";
import { newNonce } from "./owner-token.ts";

/** Per-socket state, kept small: idle origins are the broker's main memory cost. */
export interface SocketData extends BudgetedSocket {
  /** Unique per connection; proves which socket opened a session. */
  id: number;
  /** `registering` while an ownerToken is being checked. */
  role: "none" | "registering" | "origin" | "visitor";
  /** This socket's challenge: an ownerToken must sign it. */
  nonce: string;
  /** An origin that proved it holds the pod's owner key. */
  proven?: boolean;
  /** The pod an origin registered. */
  podId?: string;
  /** Sessions a visitor opened, freed when it leaves. */
  sessions?: Set<string>;
}

let nextId = 1;

export function newSocketData(burst: number): SocketData {
  return { id: nextId++, role: "none", nonce: newNonce(), tokens: burst, refilledAt: performance.now(), spare: 0 };
}
