import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../platform/files.ts';
import { PictureNotFoundError } from './errors.ts';
import type { PictureStorage, StoredObject } from './storage.ts';

/** Chunk size of {@link LocalPictureStorage.stream}, bytes: large reads keep per-chunk overhead low (exports). */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Pictures as files in the campaigns folder: key `a/images/b.png` is `<campaignsDir>/a/images/b.png`.
 * Writes go to a temporary file (`.tmp-…`), are flushed and renamed, so a crash leaves a temporary
 * file at worst, never half a picture under its key.
 */
export class LocalPictureStorage implements PictureStorage {
  /** @param campaignsDir - Absolute path of the campaigns folder. */
  constructor(private readonly campaignsDir: string) {}

  locate(key: string): string {
    return path.join(this.campaignsDir, ...key.split('/'));
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.locate(key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, bytes);
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.locate(key)).catch((err: unknown) => missing(err, key));
  }

  async size(key: string): Promise<number> {
    return (await stat(this.locate(key)).catch((err: unknown) => missing(err, key))).size;
  }

  async *stream(key: string): AsyncIterable<Buffer> {
    try {
      yield* createReadStream(this.locate(key), { highWaterMark: READ_CHUNK_BYTES });
    } catch (err) {
      missing(err, key);
    }
  }

  async move(from: string, to: string): Promise<boolean> {
    const target = this.locate(to);
    await mkdir(path.dirname(target), { recursive: true });
    return rename(this.locate(from), target).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
  }

  async delete(key: string): Promise<boolean> {
    return rm(this.locate(key)).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const found: StoredObject[] = [];
    await this.walk(prefix.replace(/\/$/, ''), found);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async walk(folder: string, into: StoredObject[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(this.locate(folder), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw err;
    }
    for (const entry of entries) {
      const key = folder === '' ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        await this.walk(key, into);
      } else if (entry.isFile()) {
        // A file that vanished between readdir and stat is not there any more.
        const info = await stat(this.locate(key)).catch(() => undefined);
        if (info) into.push({ key, size: info.size, modifiedMs: info.mtimeMs });
      }
    }
  }
}

/** @throws PictureNotFoundError for a missing file, else `err` itself. */
function missing(err: unknown, key: string): never {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PictureNotFoundError(key, { cause: err });
  throw err;
}
