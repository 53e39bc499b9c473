/** The console's own policy: nothing but its own files, no inline code, no framing. */
export const CONSOLE_CSP = ["default-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'", "object-src 'none'"].join("; ");

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": CONSOLE_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  // The numbers in it are live.
  "Cache-Control": "no-store",
};

/** Built assets have content-hashed names: cache them for good. */
export function assetHeaders(type: string, etag: string): Record<string, string> {
  return { "Content-Type": type, ETag: etag, "Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff" };
}
