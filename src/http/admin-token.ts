import { timingSafeEqual } from "node:crypto";

/** `Authorization: Bearer <token>` equals `expected`, compared in constant time. */
export function bearerMatches(header: string | undefined, expected: string | undefined): boolean {
  if (expected === undefined || !header?.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice(7));
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}
