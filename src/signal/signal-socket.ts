import type { ServerWebSocket } from "bun";
import type { ServerMessage } from "./protocol.ts";
import type { SocketData } from "./socket-data.ts";

/** A WS /signal socket; what the broker keeps about it is in its `data`. */
export type SignalSocket = ServerWebSocket<SocketData>;

export function send(ws: SignalSocket, message: ServerMessage): void {
  ws.send(JSON.stringify(message));
}
