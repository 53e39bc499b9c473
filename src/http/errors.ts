import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An error whose message and status go to the client as JSON `{error}`. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export function jsonError(status: ContentfulStatusCode, error: string, headers?: Record<string, string>): Response {
  return Response.json({ error }, { status, headers });
}
