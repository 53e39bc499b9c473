// `gemmapod-signal tunnel --server <url> --name <name> --to <local url> --key <owner.key>`
import { readOrCreateOwnerKey } from "../client/origin-auth.ts";
import { startTunnel } from "./client.ts";
import { TUNNEL_NAME } from "./protocol.ts";

export interface TunnelCommand {
  server: string;
  name: string;
  to: string;
  keyPath: string;
  passthrough: boolean;
  /** `user:password` visitors must give. */
  auth?: string;
}

export const TUNNEL_USAGE = [
  "       gemmapod-signal tunnel --server URL --name NAME --to LOCAL_URL --key FILE",
  "                              [--passthrough] [--auth USER:PASS]",
  "",
  "tunnel exposes the HTTP server at LOCAL_URL as <server>/tunnel/NAME (see README,",
  "\"Expose a local server\"). FILE is a GemmaPod owner key ({publicKey, secretKey});",
  "a missing one is created.",
].join("\n");

function httpUrl(raw: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${flag} needs an absolute http(s) URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`${flag} needs an absolute http(s) URL`);
  return url.href.replace(/\/+$/, "");
}

/** The tunnel sub-command's options (argv after "tunnel"); throws with a one-line reason. */
export function parseTunnelArgs(argv: readonly string[]): TunnelCommand {
  const values = new Map<string, string>();
  let passthrough = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (name === "--passthrough") {
      passthrough = true;
      continue;
    }
    if (!["--server", "--name", "--to", "--key", "--auth"].includes(name)) throw new Error(`unknown tunnel option ${JSON.stringify(name)} (see --help)`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`${name} needs a value`);
    values.set(name, value);
  }
  for (const required of ["--server", "--name", "--to", "--key"]) if (!values.has(required)) throw new Error(`tunnel needs ${required}`);
  const name = values.get("--name")!;
  if (!TUNNEL_NAME.test(name)) throw new Error("--name must be 1-63 characters a-z, 0-9 and -");
  const auth = values.get("--auth");
  if (auth !== undefined && !/^[^:]+:.+$/.test(auth)) throw new Error("--auth needs USER:PASSWORD");
  return { server: httpUrl(values.get("--server")!, "--server"), name, to: httpUrl(values.get("--to")!, "--to"), keyPath: values.get("--key")!, passthrough, auth };
}

/** Runs the tunnel until SIGINT/SIGTERM (exit 0) or a final refusal (exit 1). */
export async function runTunnel(command: TunnelCommand): Promise<number> {
  const { key, created } = await readOrCreateOwnerKey(command.keyPath);
  if (created) console.log(`gemmapod-signal tunnel: created a new key in ${command.keyPath} (public key ${key.publicKey})`);
  return new Promise((resolve) => {
    const tunnel = startTunnel({
      server: command.server,
      name: command.name,
      to: command.to,
      key,
      passthrough: command.passthrough || undefined,
      auth: command.auth ? `basic:${command.auth}` : undefined,
      onRegistered: (url) => console.log(`tunnel ${command.name} is live at ${url} -> ${command.to}`),
      onRequest: (r) => console.log(`${r.method} ${r.path} ${r.status} ${r.ms.toFixed(1)} ms`),
      onDisconnected: (reason, ms) => console.error(`tunnel dropped (${reason}); reconnecting in ${(ms / 1000).toFixed(1)} s`),
      onRefused: (message) => {
        console.error(`gemmapod-signal tunnel: ${message}`);
        resolve(1);
      },
    });
    const stop = () => {
      tunnel.close();
      resolve(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
