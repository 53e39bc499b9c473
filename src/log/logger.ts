// Server logs: one line per event, as text for people or JSON lines (`time`,
// `level`, `msg` and the event's fields) for Loki or Elastic. Callers pass
// fields explicitly; nothing logs request headers or bodies, so secrets
// (tokens, signatures, SDP) never reach a line.

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where finished lines go (each ends in "\n"); stdout by default. */
  write?: (line: string) => void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export class Logger {
  private readonly min: number;
  private readonly write: (line: string) => void;

  constructor(private readonly options: LoggerOptions) {
    this.min = RANK[options.level];
    this.write = options.write ?? ((line) => void process.stdout.write(line));
  }

  /** A logger that drops everything (library use without logging). */
  static silent(): Logger {
    return new Logger({ level: "error", format: "text", write: () => {} });
  }

  /** Errors only, as text on stdout: the default where no logger was handed in. */
  static errorsOnly(): Logger {
    return new Logger({ level: "error", format: "text" });
  }

  /** Lets a caller skip building fields nobody will see. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.min;
  }

  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }

  /** Start and stop: written at info whatever the level, so the address is always announced. */
  notice(msg: string, fields?: LogFields): void {
    this.emit("info", msg, fields);
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (RANK[level] >= this.min) this.emit(level, msg, fields);
  }

  private emit(level: LogLevel, msg: string, fields: LogFields = {}): void {
    const time = new Date().toISOString();
    this.write(this.options.format === "json" ? jsonLine(time, level, msg, fields) : textLine(time, level, msg, fields));
  }
}

function jsonLine(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  return `${JSON.stringify({ time, level, msg, ...definedFields(fields) })}\n`;
}

/** `2026-01-01T00:00:00.000Z INFO  message key=value key="quoted value"` */
function textLine(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${msg.replaceAll("\n", " ")}`;
  for (const [key, value] of Object.entries(definedFields(fields))) {
    const text = String(value);
    line += ` ${key}=${/^[^\s"=\\]+$/.test(text) ? text : JSON.stringify(text)}`;
  }
  return `${line}\n`;
}

function definedFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const key in fields) if (fields[key] !== undefined) out[key] = fields[key];
  return out;
}

/** An error as log fields: its message, and the stack's first frames for debugging. */
export function errorFields(error: unknown): LogFields {
  if (!(error instanceof Error)) return { error: String(error) };
  return { error: error.message, stack: error.stack?.split("\n").slice(1, 4).map((l) => l.trim()).join(" | ") };
}
