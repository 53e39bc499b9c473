// Pods run inline scripts, instantiate their WASM core, signal over any wss: host,
// and may fetch transformers.js and model weights on demand. This CSP allows
// exactly that and nothing else; deployments override it via PodHeaderOptions.
export const DEFAULT_POD_CSP = [
  "default-src 'none'",
  "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval' https://cdn.jsdelivr.net",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self' wss: stun: https://cdn.jsdelivr.net https://huggingface.co https://*.hf.co https://cas-bridge.xethub.hf.co",
  "worker-src 'self' blob:",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  // Pods are made to be embedded anywhere; the owner accepted that by signing.
  "frame-ancestors *",
  "form-action 'none'",
  "base-uri 'self'",
].join("; ");

/** The default pod CSP with `source` added to connect-src (e.g. per-tunnel subdomains). */
export function podCspConnectingTo(source: string): string {
  return DEFAULT_POD_CSP.replace("connect-src 'self'", `connect-src 'self' ${source}`);
}

export const DEFAULT_PERMISSIONS_POLICY =
  "camera=(), microphone=(), geolocation=(), payment=(), usb=(), magnetometer=(), accelerometer=(), gyroscope=()";

export interface PodHeaderOptions {
  csp?: string;
  permissionsPolicy?: string;
}

/** Headers for a served pod page. */
export function podHeaders(options: PodHeaderOptions = {}): Record<string, string> {
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": options.csp ?? DEFAULT_POD_CSP,
    "Permissions-Policy": options.permissionsPolicy ?? DEFAULT_PERMISSIONS_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    // Proxies may cache, but must revalidate soon so a takedown takes effect.
    "Cache-Control": "public, max-age=300, must-revalidate",
  };
}

/** Headers for JSON records about a pod: never cached by shared caches. */
export const META_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "Cache-Control": "private, no-store",
};
