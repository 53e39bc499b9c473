// The parsers of flag values: each takes the raw text and returns the value, or throws
// an Error whose message says what was expected (parseValue in config.ts names the source).

import { readFileSync } from "node:fs";
import { parseS3Url } from "./registry/s3-blob-store.ts";

export function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw.trim())) throw new Error(`expected a whole number from ${min} to ${max}`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

export function size(min: number, max: number) {
  return (raw: string): number => {
    const m = /^(\d+)\s*([a-z]*)$/i.exec(raw.trim());
    const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) throw new Error("expected a size such as 65536, 64k or 50m");
    const n = Number(m[1]) * unit;
    if (n < min || n > max) throw new Error(`expected a size from ${min} to ${max} bytes`);
    return n;
  };
}

export function oneOf<const T extends string>(choices: readonly T[]) {
  return (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) throw new Error(`expected one of ${choices.join(", ")}`);
    return raw as T;
  };
}

export function nonEmpty(raw: string): string {
  if (raw.trim() === "") throw new Error("expected a non-empty value");
  return raw;
}

export function ownerKeys(raw: string): ReadonlySet<string> {
  const text = raw.startsWith("@") ? readFileSync(raw.slice(1), "utf8") : raw.replaceAll(",", "\n");
  const keys = text.split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean);
  const bad = keys.find((k) => !/^[0-9a-fA-F]{64}$/.test(k));
  if (bad !== undefined) throw new Error(`not a 64-hex-character owner key: ${JSON.stringify(bad.slice(0, 80))}`);
  if (keys.length === 0) throw new Error("no owner keys given");
  return new Set(keys.map((k) => k.toLowerCase()));
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function duration(raw: string): number {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new Error("expected a duration such as 0, 90s, 12h or 30d");
  return Number(m[1]) * DURATION_UNITS[m[2] ?? "ms"]!;
}

export function clusterTtl(raw: string): number {
  const ms = duration(raw);
  if (ms < 500 || ms > 600_000) throw new Error("expected a duration from 500ms to 10m");
  return ms;
}

export function positiveDuration(raw: string): number {
  const ms = duration(raw);
  if (ms < 100) throw new Error("expected a duration of at least 100ms");
  return ms;
}

export function domainName(raw: string): string {
  const d = raw.trim().toLowerCase().replace(/\.$/, "");
  if (!/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(d)) throw new Error("expected a domain such as tunnels.example.com");
  return d;
}

export function secret(raw: string): string {
  if (raw.length < 16) throw new Error("use at least 16 characters");
  return raw;
}

export function boolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new Error("expected true or false");
}

export function pathPrefix(raw: string): string {
  if (!/^\/[A-Za-z0-9._~\/-]*$/.test(raw) || raw.includes("//")) throw new Error("expected a path such as /rondevu");
  return raw.replace(/\/+$/, "") || "/";
}

export function originList(raw: string): string[] {
  const list = raw.split(",").map((o) => o.trim()).filter(Boolean);
  if (list.length === 0) throw new Error("expected * or a comma-separated list of origins");
  return list;
}

export function urlWith(protocols: readonly string[]) {
  return (raw: string): string => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`expected a ${protocols[0]}// URL`);
    }
    if (!protocols.includes(url.protocol) || url.hostname === "") throw new Error(`expected a ${protocols[0]}// URL`);
    return raw;
  };
}

export function blobStore(raw: string): string {
  if (raw === "files") return raw;
  parseS3Url(raw);
  return raw.trim();
}

export function iceUrls(raw: string): string[] {
  const list = raw.split(",").map((u) => u.trim()).filter(Boolean);
  const bad = list.find((u) => !/^turns?:[^\s?#]+(\?transport=(udp|tcp))?$/.test(u));
  if (bad !== undefined || list.length === 0) throw new Error("expected turn:host:port or turns:host:port URLs, comma-separated");
  return list;
}

export function baseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error("expected an absolute http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("expected an absolute http(s) URL");
  return url.href.replace(/\/+$/, "");
}
