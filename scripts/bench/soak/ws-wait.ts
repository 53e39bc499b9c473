// One websocket for one operation: open it, send, wait for the frame that answers.
import { ANSWER_WAIT_MS, Unanswered } from "./op-log.ts";

export interface OpSocket {
  ws: WebSocket;
  /** The next JSON frame matching `match`; rejects on an error frame `isError` matches, a close, or `ms`. */
  /** `notice`: the frame is news, not an answer: silence for `ms` is a failure, not "never answered". */
  next(match: (m: any) => boolean, isError?: (m: any) => boolean, step?: string, notice?: { ms: number }): Promise<any>;
  send(m: unknown): void;
  close(): void;
}

/** Opens `url`; rejects if it does not open within `ms`. */
export function openSocket(url: string, ms = ANSWER_WAIT_MS): Promise<OpSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const frames: any[] = [];
    let wake: (() => void) | undefined;
    let closed: string | undefined;
    ws.onmessage = (e) => {
      try {
        frames.push(JSON.parse(String(e.data)));
      } catch {}
      wake?.();
    };
    ws.onclose = (e) => {
      closed = `closed ${e.code} ${e.reason}`;
      wake?.();
      reject(new Error(closed));
    };
    const timer = setTimeout(() => (ws.close(), reject(new Unanswered(`${url} did not open in ${ms} ms`))), ms);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve({
        ws,
        send: (m) => ws.send(JSON.stringify(m)),
        close: () => ws.close(),
        async next(match, isError = () => false, step = "the answer", notice) {
          const wait = notice?.ms ?? ANSWER_WAIT_MS;
          const deadline = Date.now() + wait;
          for (;;) {
            const i = frames.findIndex((m) => match(m) || isError(m));
            if (i !== -1) {
              const m = frames.splice(i, 1)[0];
              if (!match(m)) throw new Error(`error frame waiting for ${step}: ${JSON.stringify(m).slice(0, 200)}`);
              return m;
            }
            if (closed) throw new Error(closed);
            if (Date.now() > deadline) throw notice ? new Error(`no ${step} in ${wait} ms`) : new Unanswered(`no ${step} in ${wait} ms`);
            await Promise.race([new Promise<void>((r) => (wake = r)), Bun.sleep(100)]);
          }
        },
      });
    };
  });
}

/** Opens `url` and runs `ready` on it (a handshake, a subscribe); the socket is closed if that fails. */
export async function openReady(url: string, ready: (socket: OpSocket) => Promise<unknown>): Promise<OpSocket> {
  const socket = await openSocket(url);
  try {
    await ready(socket);
    return socket;
  } catch (error) {
    socket.close();
    throw error;
  }
}
