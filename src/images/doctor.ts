import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isCampaignId } from '../campaigns/id.ts';
import { TEMP_PREFIX } from '../platform/files.ts';
import type { Store } from '../platform/db.ts';
import { images } from '../platform/schema.ts';

/** Files younger than this (ms) are left alone: a running bot may be writing them. */
export const DEFAULT_MIN_AGE_MS = 10 * 60 * 1000;

/** Folder, inside a campaign's `images/`, where `--fix` moves pictures that have no row. */
export const LOST_AND_FOUND = 'lost+found';

const IMAGE_FILE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.png$/;

/** What `limner doctor` found; paths are relative to the campaigns folder, with `/`. */
export interface DoctorReport {
  /** Temporary files left by an interrupted write (`.tmp-*`): safe to delete. */
  readonly tempFiles: readonly string[];
  /** `<uuid>.png` files no row lists: a crash between rename and insert. */
  readonly unrecordedImages: readonly string[];
  /** Rows whose PNG is missing (image id and expected path). */
  readonly missingFiles: ReadonlyArray<{ readonly imageId: string; readonly imagePath: string }>;
  /** What `fix` did, one line per action; empty without `fix`. */
  readonly actions: readonly string[];
}

/**
 * Checks the picture store for crash debris. With `fix`: deletes temporary files and moves
 * unrecorded pictures to `images/lost+found/` (never deleted: a person may want them). Rows
 * whose file is missing are only reported: the file may be on a disk that is not mounted.
 * Files younger than `minAgeMs` (default {@link DEFAULT_MIN_AGE_MS}) are skipped, so running it
 * beside a working bot cannot take a file between its write and its row.
 * @param campaignsDir - Absolute path of the campaigns folder.
 */
export async function checkImageStore(
  store: Store,
  campaignsDir: string,
  options: { fix?: boolean; minAgeMs?: number } = {},
): Promise<DoctorReport> {
  const rows = store.db.select({ id: images.id, imagePath: images.imagePath }).from(images).all();
  const recorded = new Set(rows.map((r) => r.imagePath));
  const tempFiles: string[] = [];
  const unrecordedImages: string[] = [];
  // A file younger than this may be a write in progress of a running bot, not debris.
  const cutoff = Date.now() - (options.minAgeMs ?? DEFAULT_MIN_AGE_MS);
  for (const campaign of await listDirs(campaignsDir)) {
    if (!isCampaignId(campaign)) continue;
    const referenceDirs = (await listDirs(path.join(campaignsDir, campaign, 'images', 'references'))).map(
      (d) => `${campaign}/images/references/${d}`,
    );
    // Play-by-post portraits (`characters/`) and edit references are written atomically too, so they can leave debris.
    for (const folder of [campaign, `${campaign}/images`, `${campaign}/characters`, ...referenceDirs]) {
      for (const { name, mtimeMs } of await listFiles(path.join(campaignsDir, folder))) {
        if (mtimeMs > cutoff) continue;
        const relative = `${folder}/${name}`;
        if (name.startsWith(TEMP_PREFIX)) tempFiles.push(relative);
        else if (folder.endsWith('/images') && IMAGE_FILE.test(name) && !recorded.has(relative)) unrecordedImages.push(relative);
      }
    }
  }
  const missingFiles = rows
    .filter((r) => !existsSync(path.join(campaignsDir, ...r.imagePath.split('/'))))
    .map((r) => ({ imageId: r.id, imagePath: r.imagePath }));

  const actions: string[] = [];
  if (options.fix) {
    for (const relative of tempFiles) {
      await rm(path.join(campaignsDir, relative), { force: true });
      actions.push(`deleted temporary file ${relative}`);
    }
    for (const relative of unrecordedImages) {
      const from = path.join(campaignsDir, relative);
      const toDir = path.join(path.dirname(from), LOST_AND_FOUND);
      await mkdir(toDir, { recursive: true });
      await rename(from, path.join(toDir, path.basename(from)));
      actions.push(`moved unrecorded picture ${relative} to ${path.posix.join(path.posix.dirname(relative), LOST_AND_FOUND)}/`);
    }
  }
  return { tempFiles, unrecordedImages, missingFiles, actions };
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

async function listFiles(dir: string): Promise<Array<{ name: string; mtimeMs: number }>> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    const files = entries.filter((d) => d.isFile()).map((d) => d.name);
    // A file that vanished between readdir and stat is not debris any more.
    const found = await Promise.all(
      files.map(async (name) => {
        const info = await stat(path.join(dir, name)).catch(() => undefined);
        return info ? { name, mtimeMs: info.mtimeMs } : undefined;
      }),
    );
    return found.filter((f): f is { name: string; mtimeMs: number } => f !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}
