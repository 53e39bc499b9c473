export type Encoding = "br" | "gzip" | "identity";

/**
 * The best of our encodings the client accepts (RFC 9110 §12.5.3): brotli over
 * gzip over identity, honouring `q=0` refusals and `*`.
 */
export function pickEncoding(header: string | null, available: { br: boolean; gzip: boolean }): Encoding {
  if (!header) return "identity";
  let br = -1;
  let gzip = -1;
  let star = -1;
  for (const part of header.split(",")) {
    const [name = "", ...params] = part.trim().toLowerCase().split(";");
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split("=");
      if (k === "q") q = Number(v) || 0;
    }
    if (name === "br") br = q;
    else if (name === "gzip" || name === "x-gzip") gzip = Math.max(gzip, q);
    else if (name === "*") star = q;
  }
  if (br === -1) br = star;
  if (gzip === -1) gzip = star;
  if (available.br && br > 0 && br >= gzip) return "br";
  if (available.gzip && gzip > 0) return "gzip";
  if (available.br && br > 0) return "br";
  return "identity";
}
