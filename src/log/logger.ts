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
  /** Where finished lines go (each ends in "\n"); stdout by default, batched (see StdoutBatch). */
  write?: (line: string) => void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export class Logger {
  private readonly min: number;
  private readonly write: (line: string) => void;
  private readonly batch?: StdoutBatch;

  constructor(private readonly options: LoggerOptions) {
    this.min = RANK[options.level];
    if (options.write) this.write = options.write;
    else {
      const batch = (this.batch = new StdoutBatch());
      this.write = (line) => batch.add(line);
    }
  }

  /** Writes out batched lines now (before the process exits). */
  flush(): void {
    this.batch?.flush();
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
    const time = isoNow();
    this.write(this.options.format === "json" ? jsonLine(time, level, msg, fields) : textLine(time, level, msg, fields));
  }
}

/**
 * Lines written in the same turn of the event loop go out in one write: a
 * busy server logs thousands of requests a second, and a write each would
 * cost a system call each. A full batch (64 KiB) is written at once.
 */
class StdoutBatch {
  private text = "";
  private scheduled = false;

  add(line: string): void {
    this.text += line;
    if (this.text.length >= 64 * 1024) return this.flush();
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.text === "") return;
    const text = this.text;
    this.text = "";
    process.stdout.write(text);
  }
}

function jsonLine(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `{"time":"${time}","level":"${level}","msg":${JSON.stringify(msg)}`;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    line += `,${JSON.stringify(key)}:${typeof value === "string" ? JSON.stringify(value) : String(value)}`;
  }
  return `${line}}\n`;
}

const LABELS: Record<LogLevel, string> = { debug: "DEBUG", info: "INFO ", warn: "WARN ", error: "ERROR" };

/** `2026-01-01T00:00:00.000Z INFO  message key=value key="quoted value"` */
function textLine(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${time} ${LABELS[level]} ${msg.replaceAll("\n", " ")}`;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    const text = typeof value === "string" ? value : String(value);
    line += ` ${key}=${typeof value !== "string" || PLAIN.test(text) ? text : JSON.stringify(text)}`;
  }
  return `${line}\n`;
}

const PLAIN = /^[^\s"=\\]+$/;

let isoMs = 0;
let isoText = "";
/** Lines in the same millisecond share one formatted timestamp. */
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/** An error as log fields: its message, and the stack's first frames for debugging. */
export function errorFields(error: unknown): LogFields {
  if (!(error instanceof Error)) return { error: String(error) };
  return { error: error.message, stack: error.stack?.split("\n").slice(1, 4).map((l) => l.trim()).join(" | ") };
}

/**
 * An error log for failures that come in floods (an outage fails every call): at most one
 * line per `ms`, saying how many were left out since the last.
 */
export function throttledErrors(log: Logger, ms = 10_000): (msg: string, error: unknown, fields?: LogFields) => void {
  let last = -Infinity;
  let skipped = 0;
  return (msg, error, fields) => {
    const now = performance.now();
    if (now - last < ms) return void skipped++;
    last = now;
    log.error(msg, { ...fields, ...errorFields(error), ...(skipped > 0 ? { alsoFailedSinceLast: skipped } : {}) });
    skipped = 0;
  };
}
