import type { Server } from "bun";

/**
 * The one seam every relayed frame goes through. Locally it is Bun's native
 * pub/sub; a cluster mode can wrap it to carry the same topics between server
 * processes (e.g. over Redis pub/sub) without touching the broker.
 */
export interface Router {
  publish(topic: string, text: string): void;
}

/** The origin of a pod subscribes here; visitors' offers and candidates go here. */
export const podTopic = (podId: string): string => `p:${podId}`;
/** The visitor that opened a session subscribes here; answers and candidates go here. */
export const sessionTopic = (sessionId: string): string => `s:${sessionId}`;

/** `server` may be a Bun server or anything that publishes like one (the TLS listener). */
export function localRouter(server: () => Pick<Server<unknown>, "publish"> | Router): Router {
  return { publish: (topic, text) => void server().publish(topic, text) };
}
