/**
 * What the server tells the console, read through one function passed in from
 * server.ts. Features fill their own fields; the console only displays them.
 */
export interface ConsoleStatus {
  version: string;
  registry: string;
  origins: number;
  /** Sessions being negotiated right now. */
  sessions: number;
  /** Sessions ever started (a cumulative counter); the console derives the rate. */
  sessionsStarted: number;
  peers: number;
  rooms: number;
  tunnels: number;
  /** Pods stored, or null when the registry cannot count them. */
  pods: number | null;
  warnings: string[];
}

export type ConsoleStatusProvider = () => ConsoleStatus | Promise<ConsoleStatus>;

/** One tick's view, as sent to every live console and rendered into the page. */
export interface ConsoleSnapshot extends ConsoleStatus {
  uptimeSeconds: number;
  /** Sessions started in each of the last seconds, oldest first. */
  sessionsPerSecond: number[];
}
