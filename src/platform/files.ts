import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { LimnerError } from '../errors.ts';

/** Temporary files made by {@link writeFileAtomic} start with this, so a clean-up can find crash debris. */
export const TEMP_PREFIX = '.tmp-';

/** A temporary file of Limner's: {@link TEMP_PREFIX}, a random UUID, a dash, then the name of the file it becomes. */
const OWN_TEMP_FILE = /^\.tmp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-/;

/**
 * Age (ms) from which a temporary file counts as debris of a crashed write: a write in progress
 * touches its file far more often than this.
 */
export const STALE_TEMP_AGE_MS = 10 * 60 * 1000;

/**
 * Writes `data` to a temporary file beside `file`, flushes it to disk, then renames it
 * over `file`: readers see the old content or the new, never a partial write. The temporary
 * file is removed when anything fails.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `${TEMP_PREFIX}${randomUUID()}-${path.basename(file)}`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** A path that should be a folder (or become one) but cannot: something else is there, or the file system refuses. */
export class FolderUnusableError extends LimnerError {
  readonly code = 'folder_unusable';
  /**
   * @param folder - The folder that was asked for.
   * @param at - The path that is in the way or refused: `folder` itself or one of its parents.
   * @param reason - What is wrong there, e.g. `is a file, not a folder` or `cannot be created (EACCES)`.
   */
  constructor(
    readonly folder: string,
    readonly at: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${folder}: expected a folder, but ${at === folder ? 'it' : at} ${reason}.`, options);
  }
}

/**
 * Makes `dir` and its missing parents, one level at a time. Node's `mkdir(..., { recursive: true })`
 * is not used: under a pseudo-filesystem such as /proc it retries forever, and below a regular file
 * it names no path.
 * @throws FolderUnusableError naming `dir`, and the parent that is a file or that refuses the folder.
 */
export async function ensureDirectory(dir: string): Promise<void> {
  const absolute = path.resolve(dir);
  const missing: string[] = [];
  for (let at = absolute; ; at = path.dirname(at)) {
    let info;
    try {
      info = await stat(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: a parent is a file, which the walk up names.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(at) === at) {
        throw new FolderUnusableError(absolute, at, `cannot be read (${code ?? 'error'})`, { cause: err });
      }
      missing.unshift(at);
      continue;
    }
    if (!info.isDirectory()) throw new FolderUnusableError(absolute, at, 'is a file, not a folder');
    break;
  }
  for (const at of missing) {
    try {
      await mkdir(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another process made it meanwhile: as good as made here, when it is a folder.
      if (code === 'EEXIST' && (await stat(at)).isDirectory()) continue;
      throw new FolderUnusableError(absolute, at, `cannot be created (${code ?? 'error'})`, { cause: err });
    }
  }
}

/**
 * Deletes Limner's own temporary files (see {@link writeFileAtomic}) in `dir`, not below it, last
 * modified more than `minAgeMs` ms ago (default {@link STALE_TEMP_AGE_MS}): debris of a write a
 * crash interrupted. Younger ones may belong to a write in progress and are kept; other files that
 * merely start with a dot are never touched.
 * @returns The names of the files deleted.
 */
export async function removeStaleTempFiles(dir: string, minAgeMs = STALE_TEMP_AGE_MS): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile() && OWN_TEMP_FILE.test(d.name)).map((d) => d.name);
  } catch {
    return [];
  }
  const cutoff = Date.now() - minAgeMs;
  const removed: string[] = [];
  for (const name of names.sort()) {
    const info = await stat(path.join(dir, name)).catch(() => undefined);
    if (!info || info.mtimeMs > cutoff) continue;
    await rm(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
