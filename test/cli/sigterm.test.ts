import { expect, test } from "bun:test";
import { spawnServer } from "../helpers/cli.ts";

test("SIGTERM as soon as the server says it listens still shuts down cleanly (exit 0)", async () => {
  // A supervisor may stop a server the moment it is up; before the fix about half of these died of the signal (143).
  const codes: (number | null)[] = [];
  for (let i = 0; i < 5; i++) codes.push(await (await spawnServer([])).stop("SIGTERM"));
  expect(codes).toEqual([0, 0, 0, 0, 0]);
}, 20_000);
