import type { BlobStore } from "./blob-store.ts";

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
}

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

  constructor(options: S3BlobStoreOptions) {
    const { prefix, ...client } = options;
    this.bucket = options.bucket;
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
    await this.client.write(this.key(id), data, { type: "text/html; charset=utf-8" });
  }

  async get(id: string): Promise<Uint8Array | null> {
    try {
      return await this.client.file(this.key(id)).bytes();
    } catch (error) {
      if (isNoSuchKey(error)) return null;
      throw error;
    }
  }

  async stat(id: string): Promise<{ size: number } | null> {
    try {
      return { size: (await this.client.stat(this.key(id))).size };
    } catch (error) {
      if (isNoSuchKey(error)) return null;
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    await this.client.delete(this.key(id));
  }
}

function isNoSuchKey(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "NoSuchKey" || code === "NotFound";
}
