import { HttpError, jsonError } from "./errors.ts";

/**
 * The server-wide bound on request bodies, applied before any route runs, so a
 * route that reads a body whole (e.g. `c.req.json()`) can never be made to
 * buffer more than `limit`. A declared Content-Length over it is refused at
 * once; a chunked body is wrapped so reading it fails with 413 past the limit.
 */
export function limitRequestBody(req: Request, limit: number): Request | Response {
  if (!req.body) return req;
  const declared = req.headers.get("content-length");
  if (declared !== null) {
    return Number(declared) > limit ? jsonError(413, `request body too large (limit ${limit} bytes)`) : req;
  }
  let seen = 0;
  const guard = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > limit) controller.error(new HttpError(413, `request body too large (limit ${limit} bytes)`));
      else controller.enqueue(chunk);
    },
  });
  return new Request(req, { body: req.body.pipeThrough(guard), duplex: "half" } as RequestInit);
}
