/** One object of a {@link PictureStorage} listing. */
export interface StoredObject {
  /** Its key, relative to the storage's root, with `/`: `<campaign>/images/<id>.png`. */
  readonly key: string;
  /** Bytes. */
  readonly size: number;
  /** Last write, ms since the epoch. */
  readonly modifiedMs: number;
}

/**
 * Where picture files live, by key: `<campaign>/images/<id>.png`, `<campaign>/images/trash/<id>.png`,
 * `<campaign>/images/references/<imageId>/<n>.png` (the same strings as the rows' `image_path`).
 * Implemented by the campaigns folder ({@link LocalPictureStorage}, the default) and an
 * S3-compatible bucket ({@link S3PictureStorage}). Keys use `/` and never start with it.
 * Errors other than {@link PictureNotFoundError} are the backend's own (file system or S3 SDK),
 * passed through unchanged.
 */
export interface PictureStorage {
  /** Where `key` is, for people: an absolute path for the local folder, an `s3://bucket/key` URL otherwise. */
  locate(key: string): string;
  /**
   * Stores `bytes` under `key`, replacing what was there; once it resolves the bytes are durable and
   * readers see all of them, never part.
   */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** @throws PictureNotFoundError when nothing is stored under `key`. */
  get(key: string): Promise<Buffer>;
  /**
   * Bytes stored under `key`.
   * @throws PictureNotFoundError when nothing is stored under `key`.
   */
  size(key: string): Promise<number>;
  /**
   * The bytes under `key` in chunks, read as they are consumed (for exports: memory stays at a chunk or two).
   * @throws PictureNotFoundError (on the first read) when nothing is stored under `key`.
   */
  stream(key: string): AsyncIterable<Buffer>;
  /**
   * Moves the object at `from` to `to`, replacing what was there.
   * @returns false when nothing was stored under `from` (nothing changed).
   */
  move(from: string, to: string): Promise<boolean>;
  /** @returns false when nothing was stored under `key`. */
  delete(key: string): Promise<boolean>;
  /**
   * Every object whose key starts with `prefix` (a folder: ends with `/`), at any depth, sorted by key.
   * The local folder lists temporary files of interrupted writes too (names starting `.tmp-`).
   */
  list(prefix: string): Promise<StoredObject[]>;
}
