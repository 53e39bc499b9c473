import { Logger } from "./log/logger.ts";

/**
 * Problems the server noticed with its own setup (e.g. a proxy in front without
 * `--trust-proxy`). Each is logged once, when first seen, and listed on
 * `/health` from then on. Keyed by a short code, so the list stays as small as
 * the number of kinds of warning; add new kinds with their own code.
 */
export class Warnings {
  private readonly messages = new Map<string, string>();

  constructor(private readonly log = Logger.errorsOnly()) {}

  add(code: string, message: string): void {
    if (this.messages.has(code)) return;
    this.messages.set(code, message);
    this.log.warn(message, { warning: code });
  }

  list(): string[] {
    return [...this.messages.values()];
  }
}
