import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { PictureNotFoundError } from './errors.ts';
import type { PictureStorage, StoredObject } from './storage.ts';

/** The `storage` setting of kind `s3` (see `config/defaults.yaml`). */
export interface S3StorageSettings {
  readonly bucket: string;
  /** Prepended to every key; empty or ending in `/`. */
  readonly prefix: string;
  /** The S3-compatible server's URL; null for AWS itself. */
  readonly endpoint: string | null;
  readonly region: string;
  /** `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key` (most self-hosted servers need it). */
  readonly force_path_style: boolean;
}

type Sdk = typeof import('@aws-sdk/client-s3');

/**
 * Pictures as objects of an S3-compatible bucket, key `<prefix><key>`. A PutObject is atomic (the
 * object appears whole or not at all) and durable once acknowledged; a move is a copy then a delete,
 * so a crash between them leaves the picture under both keys, never under neither.
 *
 * Credentials come from the SDK's default chain (the standard AWS environment variables first)
 * unless `clientConfig` gives them. Checksums are sent and checked only where an operation requires
 * them: the SDK's newer default (flexible checksums on every request) is not understood by several
 * S3-compatible servers. The SDK is loaded on first use, so a bot on the local folder never loads it.
 */
export class S3PictureStorage implements PictureStorage {
  private loaded: Promise<{ sdk: Sdk; client: S3Client }> | undefined;

  /** @param clientConfig - Merged over the client's settings (e.g. `credentials` in tests). */
  constructor(
    private readonly settings: S3StorageSettings,
    private readonly clientConfig: Partial<S3ClientConfig> = {},
  ) {}

  locate(key: string): string {
    return `s3://${this.settings.bucket}/${this.settings.prefix}${key}`;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const { sdk, client } = await this.sdk();
    await client.send(new sdk.PutObjectCommand({ ...this.object(key), Body: bytes, ContentType: contentType(key) }));
  }

  async get(key: string): Promise<Buffer> {
    const { sdk, client } = await this.sdk();
    const out = await client.send(new sdk.GetObjectCommand(this.object(key))).catch((err: unknown) => missing(sdk, err, key));
    return out.Body ? Buffer.from(await out.Body.transformToByteArray()) : Buffer.alloc(0);
  }

  async size(key: string): Promise<number> {
    const { sdk, client } = await this.sdk();
    const out = await client.send(new sdk.HeadObjectCommand(this.object(key))).catch((err: unknown) => missing(sdk, err, key));
    return out.ContentLength ?? 0;
  }

  async *stream(key: string): AsyncIterable<Buffer> {
    const { sdk, client } = await this.sdk();
    const out = await client.send(new sdk.GetObjectCommand(this.object(key))).catch((err: unknown) => missing(sdk, err, key));
    // In Node the body is a Readable: chunks arrive as they are consumed.
    if (out.Body) for await (const chunk of out.Body as AsyncIterable<Uint8Array>) yield Buffer.from(chunk);
  }

  async move(from: string, to: string): Promise<boolean> {
    const { sdk, client } = await this.sdk();
    const source = `${this.settings.bucket}/${(this.settings.prefix + from).split('/').map(encodeURIComponent).join('/')}`;
    const copied = await client.send(new sdk.CopyObjectCommand({ ...this.object(to), CopySource: source })).then(
      () => true,
      (err: unknown) => {
        if (isNotFound(sdk, err)) return false;
        throw err;
      },
    );
    if (copied) await client.send(new sdk.DeleteObjectCommand(this.object(from)));
    return copied;
  }

  async delete(key: string): Promise<boolean> {
    // S3 deletes a missing key without complaint, so whether it was there is asked first.
    const there = await this.size(key).then(
      () => true,
      (err: unknown) => {
        if (err instanceof PictureNotFoundError) return false;
        throw err;
      },
    );
    if (there) {
      const { sdk, client } = await this.sdk();
      await client.send(new sdk.DeleteObjectCommand(this.object(key)));
    }
    return there;
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const { sdk, client } = await this.sdk();
    const strip = this.settings.prefix.length;
    const found: StoredObject[] = [];
    for await (const page of sdk.paginateListObjectsV2({ client }, { Bucket: this.settings.bucket, Prefix: this.settings.prefix + prefix })) {
      for (const object of page.Contents ?? []) {
        if (object.Key) found.push({ key: object.Key.slice(strip), size: object.Size ?? 0, modifiedMs: object.LastModified?.getTime() ?? 0 });
      }
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    if (this.loaded) (await this.loaded).client.destroy();
  }

  private object(key: string): { Bucket: string; Key: string } {
    return { Bucket: this.settings.bucket, Key: this.settings.prefix + key };
  }

  private sdk(): Promise<{ sdk: Sdk; client: S3Client }> {
    this.loaded ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: this.settings.region,
        ...(this.settings.endpoint ? { endpoint: this.settings.endpoint } : {}),
        forcePathStyle: this.settings.force_path_style,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...this.clientConfig,
      }),
    }));
    return this.loaded;
  }
}

function contentType(key: string): string {
  return key.endsWith('.png') ? 'image/png' : 'application/octet-stream';
}

function isNotFound(sdk: Sdk, err: unknown): boolean {
  return err instanceof sdk.S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound');
}

/** @throws PictureNotFoundError for a missing object, else `err` itself. */
function missing(sdk: Sdk, err: unknown, key: string): never {
  if (isNotFound(sdk, err)) throw new PictureNotFoundError(key, { cause: err });
  throw err;
}
