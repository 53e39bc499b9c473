import { DEFAULT_CONFIG, FLAGS } from "./config.ts";
import { TUNNEL_USAGE } from "./tunnel/command.ts";

/** Terminal width the help is laid out for. */
const WIDTH = 80;
/** Past this the help column would leave too little room; wider options put their help on the next line. */
const MAX_COLUMN = 40;
/** Environment variable names are too long for the help column; they go under their option. */
const ENV_INDENT = "      ";

/** `--help`: each option in a column as wide as the longest one, its help wrapped beside it. */
export function usage(): string {
  const options = FLAGS.map((f) => ({
    left: `  ${f.flag} ${f.value}`,
    help: `${f.help}${DEFAULT_CONFIG[f.key] === undefined ? "" : ` [${DEFAULT_CONFIG[f.key]}]`}`,
    env: `${ENV_INDENT}env: ${f.env.join(", ")}`,
  }));
  options.push({ left: "  -h, --help", help: "show this help", env: "" }, { left: "  -v, --version", help: "print the version", env: "" });
  const column = Math.min(MAX_COLUMN, Math.max(...options.map((o) => o.left.length)) + 2);
  const rows = options.flatMap((o) => {
    const [first = "", ...rest] = wrap(o.help, WIDTH - column);
    const indent = " ".repeat(column);
    const head = o.left.length + 2 <= column ? [o.left.padEnd(column) + first] : [o.left, indent + first];
    return [...head, ...rest.map((line) => indent + line), ...(o.env ? [o.env] : [])];
  });
  return [
    "Usage: gemmapod-signal [options]",
    "       gemmapod-signal healthcheck [--url URL] [options]",
    TUNNEL_USAGE,
    "",
    "GemmaPod signaling broker and signed pod registry.",
    "",
    "healthcheck exits 0 if GET URL/health answers {ok: true}, else 1. URL defaults",
    "to where these options (--port, --hostname, PORT, HOST) make the server listen,",
    "over https when --tls-cert is set (a loopback address is probed without checking",
    "the certificate, so self-signed ones work; any other host's is verified).",
    "",
    "Options:",
    ...rows,
    "",
    "Sizes take an optional k, m or g suffix (binary: 64k = 65536).",
  ].join("\n");
}

/** Greedy word wrap; a single word longer than `width` gets a line of its own. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}
