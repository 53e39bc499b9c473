// Our TURN credentials against a real coturn with use-auth-secret: an allocation
// with them succeeds; expired or forged ones are refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { iceServersFor } from "../../src/peers/ice-servers.ts";
import { coturnOrSkip, startCoturn, type Coturn } from "../helpers/coturn.ts";
import { allocate } from "../helpers/turn-client.ts";

const KEY = "5a".repeat(32);
let turn: Coturn;

describe.skipIf(!coturnOrSkip())("TURN credentials against coturn", () => {
  beforeAll(async () => {
    turn = await startCoturn();
  });
  afterAll(() => turn?.stop());

  const credentials = (secret: string, ttlMs: number, now = Date.now()) => {
    const [server] = iceServersFor({ turnUrls: [turn.url], turnSecret: secret, turnTtlMs: ttlMs, stunPort: 0 }, KEY, "127.0.0.1:1", now);
    return server!;
  };

  test("an Allocate with the credentials the hub hands out succeeds", async () => {
    const { username, credential } = credentials(turn.secret, 3_600_000);
    const result = await allocate(turn.port, username!, credential!);
    expect(result).toMatchObject({ ok: true, relayed: { family: "IPv4", address: "127.0.0.1" } });
  });

  test("expired credentials are refused", async () => {
    const { username, credential } = credentials(turn.secret, 3_600_000, Date.now() - 2 * 3_600_000);
    expect(await allocate(turn.port, username!, credential!)).toMatchObject({ ok: false, code: 401 });
  });

  test("credentials made with another secret, or a changed username, are refused", async () => {
    const forged = credentials("not-the-coturn-secret-at-all", 3_600_000);
    expect(await allocate(turn.port, forged.username!, forged.credential!)).toMatchObject({ ok: false, code: 401 });
    const good = credentials(turn.secret, 3_600_000);
    const otherKey = good.username!.replace(KEY, "6b".repeat(32));
    expect(await allocate(turn.port, otherKey, good.credential!)).toMatchObject({ ok: false, code: 401 });
  });
});
