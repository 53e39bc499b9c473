import type { HTMLBundle } from "bun";

/** A built file of the console: its bytes, type and a strong validator. */
export interface ConsoleAsset {
  body: Uint8Array;
  type: string;
  etag: string;
}

export interface ConsoleBundle {
  /** The page with its asset references pointing under `assetPrefix`. */
  html: string;
  /** By file name (e.g. `chunk-1a2b3c4d.js`). */
  assets: Map<string, ConsoleAsset>;
}

interface BuiltFile {
  name: string;
  type: string;
  body: Uint8Array;
}

/**
 * The console page, its script and stylesheet, built by Bun's bundler from the
 * HTML import. A compiled executable carries the files built at compile time
 * (`bundle.files`); from source they are built once, in memory, on first use.
 */
export async function loadConsoleBundle(bundle: HTMLBundle, assetPrefix: string): Promise<ConsoleBundle> {
  const files = bundle.files ? await readEmbedded(bundle.files) : await buildFromSource(bundle.index);
  const page = files.find((f) => f.type.startsWith("text/html"));
  if (!page) throw new Error("the console bundle has no HTML page");
  let html = new TextDecoder().decode(page.body);
  const assets = new Map<string, ConsoleAsset>();
  for (const file of files) {
    if (file === page) continue;
    assets.set(file.name, { body: file.body, type: file.type, etag: `"${new Bun.CryptoHasher("sha256").update(file.body).digest("base64url").slice(0, 22)}"` });
    // The bundler writes `./name` from source and `/name` when compiled; both become the prefix.
    html = html.replaceAll(new RegExp(`(src|href)="\\.?/${escapeRegExp(file.name)}"`, "g"), `$1="${assetPrefix}${file.name}"`);
  }
  return { html, assets };
}

async function readEmbedded(files: NonNullable<HTMLBundle["files"]>): Promise<BuiltFile[]> {
  return Promise.all(
    files.map(async (f) => ({ name: basename(f.path), type: f.headers["content-type"], body: await Bun.file(f.path).bytes() })),
  );
}

async function buildFromSource(index: string): Promise<BuiltFile[]> {
  const built = await Bun.build({ entrypoints: [index], target: "browser", minify: true });
  if (!built.success) throw new AggregateError(built.logs, "building the console failed");
  return Promise.all(built.outputs.map(async (o) => ({ name: basename(o.path), type: o.type, body: new Uint8Array(await o.arrayBuffer()) })));
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
