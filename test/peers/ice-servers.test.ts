// ICE servers handed to peers: TURN REST API credentials, our STUN port, GET /ice-servers.
import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { ConfigError, parseArgs } from "../../src/config.ts";
import { iceServersFor } from "../../src/peers/ice-servers.ts";
import { enterRoom, newKey, type TestKey } from "../helpers/peers.ts";
import { withServer } from "../helpers/server.ts";

const SECRET = "coturn-static-auth-secret";
const ice = { turnUrls: ["turn:turn.example.com:3478", "turns:turn.example.com:5349"], turnSecret: SECRET, turnTtlMs: 3_600_000, stunPort: 0 };
const KEY = "ab".repeat(32);

async function signedGet(key: TestKey, seconds = Math.floor(Date.now() / 1000)): Promise<string> {
  return `GemmaPod-Ed25519 ${key.id}.${seconds}.${await key.sign(`GET /ice-servers ${seconds}`)}`;
}

describe("iceServersFor", () => {
  test("TURN: username <expiry>:<key>, credential base64 HMAC-SHA1 of it under the secret", () => {
    const now = 1_800_000_000_000;
    const [turn] = iceServersFor(ice, KEY, "pods.example.com", now);
    expect(turn).toEqual({ urls: ice.turnUrls, username: `${1_800_003_600}:${KEY}`, credential: createHmac("sha1", SECRET).update(`${1_800_003_600}:${KEY}`).digest("base64") });
  });

  test("our STUN port at the host the peer dialed, IPv6 kept bracketed; nothing when nothing is configured", () => {
    const stun = { ...ice, turnUrls: [], stunPort: 3478 };
    expect(iceServersFor(stun, KEY, "pods.example.com:8443")).toEqual([{ urls: ["stun:pods.example.com:3478"] }]);
    expect(iceServersFor(stun, KEY, "[::1]:8080")).toEqual([{ urls: ["stun:[::1]:3478"] }]);
    expect(iceServersFor({ ...stun, stunPort: 0 }, KEY, "x")).toEqual([]);
  });

  test("flags: --turn-url needs --turn-secret; only turn:/turns: URLs", () => {
    expect(() => parseArgs(["--turn-url", "turn:t.example:3478"])).toThrow(ConfigError);
    expect(() => parseArgs(["--turn-url", "http://t.example", "--turn-secret", SECRET])).toThrow("turn:host:port");
    const parsed = parseArgs(["--turn-url", "turn:t.example:3478?transport=tcp,turns:t.example:5349", "--turn-secret", SECRET, "--turn-ttl", "10m"]);
    expect(parsed.kind === "serve" && [parsed.config.turnUrls, parsed.config.turnTtlMs]).toEqual([["turn:t.example:3478?transport=tcp", "turns:t.example:5349"], 600_000]);
    const env = parseArgs([], { TURN_URL: "turn:e.example:3478", TURN_SECRET: SECRET });
    expect(env.kind === "serve" && env.config.turnSecret).toBe(SECRET);
  });
});

describe("the server hands them out", () => {
  test("in the peers message, and from GET /ice-servers to signed requests only, each signature once", async () => {
    await withServer({ ...ice, stunPort: 3478 }, async (srv) => {
      const peer = await enterRoom(srv, "ice");
      const host = new URL(srv.url).hostname;
      expect(peer.entered.iceServers).toEqual([{ urls: [`stun:${host}:3478`] }, { urls: ice.turnUrls, username: expect.stringMatching(new RegExp(`:${peer.key.id}$`)), credential: expect.any(String) }]);
      peer.socket.close();

      expect((await fetch(`${srv.url}/ice-servers`)).status).toBe(401);
      const key = await newKey();
      const authorization = await signedGet(key);
      const res = await fetch(`${srv.url}/ice-servers`, { headers: { authorization } });
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const { iceServers } = await res.json();
      const [, turn] = iceServers;
      const [expiry, who] = turn.username.split(":");
      expect(who).toBe(key.id);
      expect(Number(expiry) - Date.now() / 1000).toBeCloseTo(3600, -1);
      expect(turn.credential).toBe(createHmac("sha1", SECRET).update(turn.username).digest("base64"));
      const replay = await fetch(`${srv.url}/ice-servers`, { headers: { authorization } });
      expect(replay.status).toBe(401);
      expect((await replay.json()).error).toContain("already used");
      const stale = await fetch(`${srv.url}/ice-servers`, { headers: { authorization: await signedGet(key, Math.floor(Date.now() / 1000) - 3600) } });
      expect(stale.status).toBe(401);
      const forged = (await signedGet(key)).replace(/.{4}$/, "AAAA");
      expect((await fetch(`${srv.url}/ice-servers`, { headers: { authorization: forged } })).status).toBe(401);
    });
  });
});
