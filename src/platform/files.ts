import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Temporary files made by {@link writeFileAtomic} start with this, so a clean-up can find crash debris. */
export const TEMP_PREFIX = '.tmp-';

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
