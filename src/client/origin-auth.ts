// For origin software (a GemmaPod Host, a script) that wants to prove it owns the
// pod it registers, when the broker runs with --origin-auth claimed|required.
import * as ed from "@noble/ed25519";
import { readFile, writeFile } from "node:fs/promises";
import { registerChallengeBytes } from "../identity/owner-token.ts";

/** An owner key file as `gemmapod keygen` writes it. */
export interface OwnerKey {
  publicKey: string;
  secretKey: string;
}

export async function readOwnerKey(path: string): Promise<OwnerKey> {
  const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<OwnerKey>;
  if (!/^[0-9a-fA-F]{64}$/.test(parsed.publicKey ?? "") || !/^[0-9a-fA-F]{64}$/.test(parsed.secretKey ?? "")) {
    throw new Error(`${path}: expected {"publicKey", "secretKey"} as 64 hex characters each`);
  }
  return { publicKey: parsed.publicKey!.toLowerCase(), secretKey: parsed.secretKey!.toLowerCase() };
}

/** A fresh Ed25519 key in the key file format. */
export async function newOwnerKey(): Promise<OwnerKey> {
  const seed = ed.utils.randomSecretKey();
  return { publicKey: Buffer.from(await ed.getPublicKeyAsync(seed)).toString("hex"), secretKey: Buffer.from(seed).toString("hex") };
}

/** The key in `path`, or a new one written there (mode 0600) when the file does not exist. */
export async function readOrCreateOwnerKey(path: string): Promise<{ key: OwnerKey; created: boolean }> {
  try {
    return { key: await readOwnerKey(path), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = await newOwnerKey();
  // "wx": never overwrite a key file that appeared meanwhile.
  await writeFile(path, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return { key, created: true };
}

/** The `ownerToken` answering a broker's challenge `nonce` for `podId`. */
export async function ownerToken(key: OwnerKey, podId: string, nonce: string): Promise<string> {
  const signature = await ed.signAsync(registerChallengeBytes(podId, nonce), Buffer.from(key.secretKey, "hex"));
  return `${key.publicKey}.${Buffer.from(signature).toString("base64url")}`;
}

/**
 * Opens `WS <url>`, waits for the challenge, registers `podId` with proof, and
 * resolves with the socket once `registered` arrives (rejects on an error or close).
 */
export function connectOrigin(options: { url: string; podId: string; key: OwnerKey; timeoutMs?: number }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url);
    const timer = setTimeout(() => fail(new Error("no registered answer in time")), options.timeoutMs ?? 10_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      ws.close();
      reject(error);
    };
    ws.onmessage = async (event) => {
      const m = JSON.parse(String(event.data));
      if (m.t === "challenge") {
        ws.send(JSON.stringify({ t: "register", podId: options.podId, ownerToken: await ownerToken(options.key, options.podId, m.nonce) }));
      } else if (m.t === "registered") {
        clearTimeout(timer);
        ws.onmessage = null;
        ws.onclose = null;
        resolve(ws);
      } else if (m.t === "error") fail(new Error(m.message));
    };
    ws.onclose = (e) => fail(new Error(`closed ${e.code} ${e.reason}`));
  });
}
