import { TUNNEL_NAME } from "./protocol.ts";

/** Where visitors reach tunnel `name`: `<base>/tunnel/<name>`, or `<scheme>://<name>.<domain>` with --tunnel-domain. */
export function tunnelUrl(name: string, base: string, tunnelDomain: string | undefined): string {
  if (!tunnelDomain) return `${base}/tunnel/${name}`;
  return `${new URL(base).protocol}//${name}.${tunnelDomain}`;
}

/** The tunnel a `<name>.<domain>` Host names, or null. */
export function subdomainName(host: string | null, tunnelDomain: string): string | null {
  if (!host) return null;
  const bare = host.toLowerCase().replace(/:\d+$/, "");
  const suffix = `.${tunnelDomain}`;
  if (!bare.endsWith(suffix)) return null;
  const name = bare.slice(0, -suffix.length);
  return TUNNEL_NAME.test(name) ? name : null;
}
