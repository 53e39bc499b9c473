import type { BlobStore } from "./blob-store.ts";
import { StoreUnavailableError } from "./outage.ts";

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; "" for the bucket's root. */
  prefix: string;
}

export interface S3BlobStoreOptions extends S3Location {
  /** Any S3-compatible endpoint (MinIO, R2, …); default AWS. */
  endpoint?: string;
  /** Omitted: Bun reads S3_* / AWS_* from the environment. */
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  /** An S3 request with no answer by then fails as "S3 away" (uploads get one more second per MiB); default 10 s. */
  deadlineMs?: number;
}

/** What an upload is allowed on top of the deadline: a slow but working bucket still takes a 50 MB pod. */
const UPLOAD_MS_PER_MIB = 1000;

/** `s3://bucket[/prefix]` → its parts; throws on anything else. */
export function parseS3Url(raw: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/[A-Za-z0-9!_.*'()\/-]*)?$/.exec(raw.trim());
  if (!m) throw new Error("expected s3://<bucket>[/prefix]");
  return { bucket: m[1]!, prefix: (m[2] ?? "").replace(/^\/+|\/+$/g, "") };
}

/** Pod pages as objects `<prefix>/<id>.html` in one bucket, shared by every node. */
export class S3BlobStore implements BlobStore {
  readonly name = "s3";
  private readonly client: Bun.S3Client;
  private readonly prefix: string;
  private readonly bucket: string;
  private readonly deadlineMs: number;

  constructor(options: S3BlobStoreOptions) {
    const { prefix, deadlineMs = 10_000, ...client } = options;
    this.bucket = options.bucket;
    this.deadlineMs = deadlineMs;
    this.client = new Bun.S3Client(Object.fromEntries(Object.entries(client).filter(([, v]) => v !== undefined)));
    this.prefix = prefix === "" ? "" : `${prefix}/`;
  }

  private key(id: string): string {
    return `${this.prefix}${id}.html`;
  }

  where(id: string): string {
    return `s3://${this.bucket}/${this.key(id)}`;
  }

  async put(id: string, data: Uint8Array): Promise<void> {
    const ms = this.deadlineMs + Math.ceil(data.byteLength / 1024 / 1024) * UPLOAD_MS_PER_MIB;
    await s3Call(() => this.client.write(this.key(id), data, { type: "text/html; charset=utf-8" }), ms);
  }

  get(id: string): Promise<Uint8Array | null> {
    return s3Call(() => this.client.file(this.key(id)).bytes(), this.deadlineMs);
  }

  async stat(id: string): Promise<{ size: number } | null> {
    const stat = await s3Call(() => this.client.stat(this.key(id)), this.deadlineMs);
    return stat && { size: stat.size };
  }

  async delete(id: string): Promise<void> {
    await s3Call(() => this.client.delete(this.key(id)), this.deadlineMs);
  }

  /** Reachable when a lookup gets an answer (a missing object is one). */
  async probe(): Promise<void> {
    await this.stat(".probe");
  }
}

/**
 * One S3 request: a missing object is null; any other failure means the bucket
 * cannot be used right now (Bun's S3 errors all say "an unexpected error has
 * occurred"), tagged so the request answers 503 naming S3. A bucket that takes
 * the connection but never answers fails the same way after `deadlineMs`,
 * instead of holding the visitor's request (and the outage probe) forever.
 */
async function s3Call<T>(call: () => Promise<T>, deadlineMs: number): Promise<T | null> {
  let timer: Timer | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    return await Promise.race([call(), late]);
  } catch (error) {
    if (isNoSuchKey(error)) return null;
    throw new StoreUnavailableError("s3", error);
  } finally {
    clearTimeout(timer);
  }
}

function isNoSuchKey(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "NoSuchKey" || code === "NotFound";
}
