import { timingSafeEqual } from "node:crypto";

/** `given` equals `want`, compared in constant time. */
export function textMatches(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>` equals `expected`, compared in constant time. */
export function bearerMatches(header: string | undefined, expected: string | undefined): boolean {
  if (expected === undefined || !header?.startsWith("Bearer ")) return false;
  return textMatches(header.slice(7), expected);
}
