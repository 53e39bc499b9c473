// A local server's body, read for the tunnel: pieces as they come, except when small pieces come
// fast. A server writing 1 KB at a time, unbuffered, would otherwise cost a frame per piece, past
// the broker's frame budget for a request (1000 small frames a second); a model's token stream,
// a few hundred pieces a second at most, is never held.
import { SMALL_FRAME_BYTES } from "./protocol.ts";

/** Small pieces in a row, within a tenth of a second, after which small pieces are gathered. */
const SMALL_PIECES_BEFORE_GATHERING = 40;
/** How long a gathered frame waits for more. */
const GATHER_MS = 2;

const TIMED_OUT: unique symbol = Symbol("timed out");

export async function* gatheredBody(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let recent = 0;
  let windowStart = 0;
  let next = reader.read();
  try {
    for (;;) {
      const first = await next;
      if (first.done) return;
      next = reader.read();
      if (first.value.byteLength >= SMALL_FRAME_BYTES) {
        yield first.value;
        continue;
      }
      const now = performance.now();
      if (now - windowStart > 100) (windowStart = now), (recent = 0);
      if (++recent <= SMALL_PIECES_BEFORE_GATHERING) {
        yield first.value;
        continue;
      }
      const parts = [first.value];
      let bytes = first.value.byteLength;
      const deadline = Bun.sleep(GATHER_MS).then((): typeof TIMED_OUT => TIMED_OUT);
      while (bytes < SMALL_FRAME_BYTES) {
        const more = await Promise.race([next, deadline]);
        if (more === TIMED_OUT) break;
        if (more.done) {
          next = Promise.resolve(more);
          break;
        }
        parts.push(more.value);
        bytes += more.value.byteLength;
        next = reader.read();
      }
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    }
  } finally {
    // The exchange stopped early (cancelled, failed): the local server's body is not read on.
    reader.cancel().catch(() => {});
  }
}
