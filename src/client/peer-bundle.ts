// GET /client/peer.js: src/client/peer.ts as one browser ES module, so a page can
// `import { connectPeer } from "https://<server>/client/peer.js"` with nothing installed.
// Its source is imported as text, which `bun build --compile` embeds in the
// executable (and the npm package ships), then bundled once, at the first request.
import { etagMatches } from "../http/pod-cache.ts";
import { authStatement } from "../identity/auth-statement.ts";

interface Bundle {
  body: string;
  etag: string;
}

type TextModule = { default: string };

/** Every file peer.ts imports at run time (its type imports vanish), at its path under src/. */
async function sources(): Promise<Record<string, string>> {
  const client = (await import("./peer.ts", { with: { type: "text" } })) as unknown as TextModule;
  return {
    "/src/client/peer.ts": client.default,
    // The server's own function, as it runs here: one copy of the logic, and no file
    // imported both as code and as text (which `bun build --compile` can mix up).
    "/src/identity/auth-statement.ts": `export const authStatement = ${authStatement.toString()};`,
  };
}

async function bundle(): Promise<Bundle> {
  const result = await Bun.build({ entrypoints: ["/src/client/peer.ts"], files: await sources(), target: "browser", format: "esm", minify: true });
  const output = result.outputs[0];
  if (!result.success || !output) throw new Error(`bundling the peer client failed: ${result.logs.join("; ")}`);
  const body = await output.text();
  return { body, etag: `"${new Bun.CryptoHasher("sha256").update(body).digest("base64url").slice(0, 27)}"` };
}

let built: Promise<Bundle> | undefined;

const HEADERS = {
  "Content-Type": "text/javascript; charset=utf-8",
  "Cache-Control": "public, max-age=300, must-revalidate",
  // Module scripts load in CORS mode: pages on any origin may import it.
  "Access-Control-Allow-Origin": "*",
  "X-Content-Type-Options": "nosniff",
};

export async function servePeerClient(req: Request): Promise<Response> {
  let client: Bundle;
  try {
    client = await (built ??= bundle());
  } catch (error) {
    built = undefined;
    console.error("[gemmapod-signal]", error);
    return Response.json({ error: "the peer client could not be built" }, { status: 500 });
  }
  const headers = { ...HEADERS, ETag: client.etag };
  if (etagMatches(req.headers.get("if-none-match"), client.etag)) return new Response(null, { status: 304, headers });
  return new Response(client.body, { headers });
}
