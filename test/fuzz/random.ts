/** A small seeded PRNG (mulberry32) so a failing fuzz run can be replayed. */
export function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

export type Rng = ReturnType<typeof seeded>;

/** Mutates text: flips, inserts, deletes or duplicates a few characters. */
export function mutateText(rng: Rng, text: string): string {
  let s = text;
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const at = rng.int(s.length + 1);
    switch (rng.int(4)) {
      case 0:
        s = s.slice(0, at) + String.fromCharCode(rng.int(0x3000)) + s.slice(at + 1);
        break;
      case 1:
        s = s.slice(0, at) + rng.pick(['"', "{", "}", "[", "]", ",", ":", "\\", "null", "1e999", "-0", "\u0000"]) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at + 1 + rng.int(8));
        break;
      default:
        s = s.slice(0, at) + s.slice(at, at + rng.int(16)).repeat(2) + s.slice(at);
    }
  }
  return s;
}

/** A random JSON value of bounded depth. */
export function randomJson(rng: Rng, depth = 0): unknown {
  const kind = rng.int(depth > 3 ? 5 : 7);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.next() * 1e6 - 5e5;
    case 2:
      return rng.pick([true, false]);
    case 3:
      return "x".repeat(rng.int(40));
    case 4:
      return rng.pick(["register", "offer", "answer", "candidate", "error", "__proto__", "constructor", ""]);
    case 5:
      return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) o[rng.pick(["t", "podId", "sessionId", "sdp", "candidate", "message", "ownerToken", "x"])] = randomJson(rng, depth + 1);
      return o;
    }
  }
}
