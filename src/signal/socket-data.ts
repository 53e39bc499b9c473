/** Per-socket state, kept small: idle origins are the broker's main memory cost. */
export interface SocketData {
  /** Unique per connection; proves which socket opened a session. */
  id: number;
  ip: string;
  role: "none" | "origin" | "visitor";
  /** The pod an origin registered. */
  podId?: string;
  /** Sessions a visitor opened, freed when it leaves. */
  sessions?: Set<string>;
}

let nextId = 1;

export function newSocketData(ip: string): SocketData {
  return { id: nextId++, ip, role: "none" };
}
