import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isCampaignId } from '../campaigns/id.ts';
import { LimnerError } from '../errors.ts';
import { STALE_TEMP_AGE_MS, TEMP_PREFIX } from '../platform/files.ts';
import type { Store } from '../platform/db.ts';
import { LocalPictureStorage } from './local-storage.ts';
import type { PictureStorage } from './storage.ts';

/** Files younger than this (ms) are left alone: a running bot may be writing them. */
export const DEFAULT_MIN_AGE_MS = STALE_TEMP_AGE_MS;

/** The campaigns folder (`campaigns_dir`) is missing or is not a folder, so there is no picture store to check. */
export class CampaignsFolderMissingError extends LimnerError {
  readonly code = 'campaigns_folder_missing';
  /** @param reason - `missing` when nothing is there, `not_folder` when a file is. */
  constructor(
    readonly folder: string,
    readonly reason: 'missing' | 'not_folder',
  ) {
    super(
      reason === 'missing'
        ? `The campaigns folder ${folder} does not exist, so there is nothing to check (setting campaigns_dir).`
        : `The campaigns folder ${folder} is a file, not a folder (setting campaigns_dir).`,
    );
  }
}

/**
 * Checks that the campaigns folder exists and is a folder, before anything (the database included)
 * is opened or created in it.
 * @throws CampaignsFolderMissingError
 */
export async function requireCampaignsFolder(campaignsDir: string): Promise<void> {
  const info = await stat(campaignsDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw err;
  });
  if (!info) throw new CampaignsFolderMissingError(campaignsDir, 'missing');
  if (!info.isDirectory()) throw new CampaignsFolderMissingError(campaignsDir, 'not_folder');
}

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
  /**
   * Temporary files and unrecorded pictures left alone because they are younger than `minAgeMs`:
   * they may be writes in progress, so they are neither reported as debris nor fixed.
   */
  readonly skipped: readonly string[];
  /** The safety window used, ms. */
  readonly minAgeMs: number;
  /** What `fix` did, one line per action; empty without `fix`. */
  readonly actions: readonly string[];
}

/**
 * Checks the picture store for crash debris. With `fix`: deletes temporary files and moves
 * unrecorded pictures to `images/lost+found/` (never deleted: a person may want them). Rows
 * whose file is missing are only reported: the file may be on a disk that is not mounted.
 * Files younger than `minAgeMs` (default {@link DEFAULT_MIN_AGE_MS}) are skipped, so running it
 * beside a working bot cannot take a file between its write and its row; they are listed in `skipped`.
 * Pictures and edit references are listed through `options.storage` (default the campaigns folder);
 * the campaign folders themselves (temporary files beside `campaign.yaml` and in `characters/`) are
 * always local. Campaigns checked: those with a folder and those with rows.
 * @param campaignsDir - Absolute path of the campaigns folder.
 * @throws CampaignsFolderMissingError when `campaignsDir` is missing or not a folder.
 */
export async function checkImageStore(
  store: Store,
  campaignsDir: string,
  options: { fix?: boolean; minAgeMs?: number; storage?: PictureStorage } = {},
): Promise<DoctorReport> {
  await requireCampaignsFolder(campaignsDir);
  const storage = options.storage ?? new LocalPictureStorage(campaignsDir);
  const { images } = store.tables;
  const rows = await store.db.select({ id: images.id, campaignId: images.campaignId, imagePath: images.imagePath }).from(images);
  const recorded = new Set(rows.map((r) => r.imagePath));
  const tempFiles: string[] = [];
  const localTemps = new Set<string>();
  const unrecordedImages: string[] = [];
  const skipped: string[] = [];
  const stored = new Set<string>();
  const minAgeMs = options.minAgeMs ?? DEFAULT_MIN_AGE_MS;
  // A file younger than this may be a write in progress of a running bot, not debris.
  const cutoff = Date.now() - minAgeMs;
  const folders = (await listDirs(campaignsDir)).filter(isCampaignId);
  const campaigns = [...new Set([...folders, ...rows.map((r) => r.campaignId)])].sort();
  for (const campaign of campaigns) {
    // Play-by-post portraits (`characters/`) are written atomically too, so they can leave debris.
    for (const folder of [campaign, `${campaign}/characters`]) {
      for (const { name, mtimeMs } of await listFiles(path.join(campaignsDir, folder))) {
        if (!name.startsWith(TEMP_PREFIX)) continue;
        const relative = `${folder}/${name}`;
        localTemps.add(relative);
        (mtimeMs > cutoff ? skipped : tempFiles).push(relative);
      }
    }
    const imagesPrefix = `${campaign}/images/`;
    for (const object of await storage.list(imagesPrefix)) {
      stored.add(object.key);
      const inside = object.key.slice(imagesPrefix.length).split('/');
      const name = inside.at(-1)!;
      // Pictures sit in `images/`, edit references in `images/references/<imageId>/`; trash and lost+found are neither.
      const own = inside.length === 1 || (inside.length === 3 && inside[0] === 'references');
      if (!own) continue;
      const list = name.startsWith(TEMP_PREFIX)
        ? tempFiles
        : inside.length === 1 && IMAGE_FILE.test(name) && !recorded.has(object.key)
          ? unrecordedImages
          : undefined;
      if (list) (object.modifiedMs > cutoff ? skipped : list).push(object.key);
    }
  }
  const missingFiles = rows.filter((r) => !stored.has(r.imagePath)).map((r) => ({ imageId: r.id, imagePath: r.imagePath }));

  const actions: string[] = [];
  if (options.fix) {
    for (const relative of tempFiles) {
      if (localTemps.has(relative)) await rm(path.join(campaignsDir, ...relative.split('/')), { force: true });
      else await storage.delete(relative);
      actions.push(`deleted temporary file ${relative}`);
    }
    for (const relative of unrecordedImages) {
      const lostAndFound = `${path.posix.dirname(relative)}/${LOST_AND_FOUND}`;
      await storage.move(relative, `${lostAndFound}/${path.posix.basename(relative)}`);
      actions.push(`moved unrecorded picture ${relative} to ${lostAndFound}/`);
    }
  }
  return { tempFiles: tempFiles.sort(), unrecordedImages, missingFiles, skipped, minAgeMs, actions };
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
