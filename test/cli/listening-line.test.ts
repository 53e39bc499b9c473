// Issue 27: the start-up line says what the bind address means. The default
// --hostname 0.0.0.0 is reachable from the network, and a bare
// http://127.0.0.1 URL used to read as "local only".
import { describe, expect, test } from "bun:test";
import { listeningLine } from "../../src/local-url.ts";
import { spawnServer } from "../helpers/cli.ts";

async function firstLine(args: string[]): Promise<{ line: string; url: string }> {
  const server = await spawnServer(args);
  try {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    return { line: server.output().split("\n")[0]!, url: server.url };
  } finally {
    await server.stop();
  }
}

describe("the start-up line", () => {
  test("the default bind says all interfaces, with a loopback URL to open here", async () => {
    const { line, url } = await firstLine(["--hostname", "0.0.0.0"]);
    const port = new URL(url).port;
    expect(line).toContain(`gemmapod-signal listening on 0.0.0.0:${port} (all interfaces); locally: http://127.0.0.1:${port} `);
    expect(line).not.toContain("public:");
  });

  test("a loopback bind says loopback only; --public-url is named too", async () => {
    const { line, url } = await firstLine(["--public-url", "https://signal.example.test/base"]);
    const port = new URL(url).port;
    expect(line).toContain(`listening on 127.0.0.1:${port} (loopback only); locally: http://127.0.0.1:${port}; public: https://signal.example.test/base `);
  });

  test("IPv6 and single-address binds", () => {
    expect(listeningLine("::", 8080, "http://127.0.0.1:8080", undefined)).toBe("gemmapod-signal listening on [::]:8080 (all interfaces); locally: http://127.0.0.1:8080");
    expect(listeningLine("::1", 8080, "http://[::1]:8080", undefined)).toBe("gemmapod-signal listening on [::1]:8080 (loopback only); locally: http://[::1]:8080");
    expect(listeningLine("10.1.2.3", 443, "https://10.1.2.3:443", undefined)).toBe("gemmapod-signal listening on 10.1.2.3:443 (this address only); locally: https://10.1.2.3:443");
  });
});
