// The shape of a command-line option. config.ts holds the server's own options;
// each protocol folder declares its own in a table of the same shape, so that
// adding a protocol adds its options without touching the core's.

/** One option: its flag, environment variables, help, parser, and its value when not given. */
export interface FlagSpec<T> {
  flag: string;
  env: string[];
  value: string;
  help: string;
  parse: (raw: string) => T;
  default: T;
}

export type FlagTable = Record<string, FlagSpec<any>>;

/** The settings a table of options yields, by key. */
export type ValuesOf<T extends FlagTable> = { -readonly [K in keyof T]: T[K]["default"] };

/** One option; spell out `T` where the default is wider than the parser's result (`undefined`). */
export function flag<T>(spec: Omit<FlagSpec<T>, "default"> & { default: NoInfer<T> }): FlagSpec<T> {
  return spec;
}

export function defaultsOf<T extends FlagTable>(table: T): ValuesOf<T> {
  return Object.fromEntries(Object.entries(table).map(([key, spec]) => [key, spec.default])) as ValuesOf<T>;
}
