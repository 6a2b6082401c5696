import { randomUUID } from 'node:crypto';
import { and, asc, count, desc, eq, gte, isNotNull, isNull, lt, ne } from 'drizzle-orm';
import type { CampaignId } from '../campaigns/id.ts';
import type { SqliteStore } from '../platform/db.ts';
import { images, type GenerationMode, type ImageRow } from '../platform/schema.ts';
import type { PngImage } from './normalise.ts';
import type { PictureStorage } from './storage.ts';

/** Folder inside a campaign's `images/` holding deleted pictures until they are purged. */
export const TRASH_DIR = 'trash';

/** What a caller supplies to store a picture; ids, paths, sizes and timestamps are filled in. */
export interface NewImage {
  readonly campaignId: CampaignId;
  readonly turn: number;
  readonly mode: GenerationMode;
  readonly prompt: string;
  readonly provider: string;
  readonly model: string;
  readonly textModel: string | null;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** USD. */
  readonly costUsd: number;
  /** Discord user id or `cli`. */
  readonly requestedBy: string;
  readonly parentImageId?: string | null;
  /** See `sceneKey` (src/scenes/illustrate.ts); only scenes have one. */
  readonly sceneKey?: string | null;
}

/**
 * Picture files under `<campaign>/images/` in the picture storage (the campaigns folder or a
 * bucket; the row's `image_path` is the key) and their rows in SQLite.
 *
 * Crash safety: the PNG is stored durably (see {@link PictureStorage.put}) under `<uuid>.png`
 * before the row is inserted; if the insert fails the file is removed. A crash can therefore
 * leave a temporary file or an unlisted `<uuid>.png` (debris for a later clean-up), never a
 * row without its file.
 */
export class ImageStore {
  /** @param storage - Where the files are; every reader of picture bytes goes through it. */
  constructor(
    private readonly store: SqliteStore,
    readonly storage: PictureStorage,
  ) {}

  /**
   * Writes the PNG durably (see the class), then inserts its row in one SQLite transaction with
   * `alongside` (e.g. the requester's session moving to it, the usage row linked to it), so readers
   * see all of it or none. Returns the row.
   * @param alongside - Told the new row inside the transaction.
   * @param id - The picture's id (UUID) when the caller needs it before saving; a new one by default.
   * @throws the storage's error (nothing is left but crash debris), or SQLite's or `alongside`'s
   *   (nothing was inserted and the file is removed).
   */
  async save(image: PngImage, meta: NewImage, alongside?: (row: ImageRow) => void, id: string = randomUUID()): Promise<ImageRow> {
    const row: ImageRow = {
      id,
      campaignId: meta.campaignId,
      turn: meta.turn,
      mode: meta.mode,
      prompt: meta.prompt,
      imagePath: `${meta.campaignId}/images/${id}.png`,
      provider: meta.provider,
      model: meta.model,
      textModel: meta.textModel,
      width: image.width,
      height: image.height,
      bytes: image.png.byteLength,
      inputTokens: meta.inputTokens,
      outputTokens: meta.outputTokens,
      costUsd: meta.costUsd,
      requestedBy: meta.requestedBy,
      createdAt: new Date().toISOString(),
      parentImageId: meta.parentImageId ?? null,
      sceneKey: meta.sceneKey ?? null,
      deletedAt: null,
      deletedBy: null,
    };
    await this.storage.put(row.imagePath, image.png);
    try {
      this.store.sqlite.transaction(() => {
        this.store.db.insert(images).values(row).run();
        alongside?.(row);
      })();
    } catch (err) {
      await this.storage.delete(row.imagePath);
      throw err;
    }
    return row;
  }

  /** A live (not deleted) picture's row by id, or undefined. */
  get(id: string): ImageRow | undefined {
    return this.store.db
      .select()
      .from(images)
      .where(and(eq(images.id, id), isNull(images.deletedAt)))
      .get();
  }

  /** A campaign's live scene pictures by turn, then creation time; cast portraits are no scene and are left out. */
  list(campaignId: CampaignId, filter: { requestedBy?: string } = {}): ImageRow[] {
    const scenes = and(eq(images.campaignId, campaignId), ne(images.mode, 'portrait'), isNull(images.deletedAt));
    const where = filter.requestedBy ? and(scenes, eq(images.requestedBy, filter.requestedBy)) : scenes;
    return this.store.db.select().from(images).where(where).orderBy(asc(images.turn), asc(images.createdAt)).all();
  }

  /** The newest live scene picture (portraits aside) `requestedBy` made in a campaign, or undefined. */
  latestOf(campaignId: string, requestedBy: string): ImageRow | undefined {
    return this.store.db
      .select()
      .from(images)
      .where(
        and(eq(images.campaignId, campaignId), eq(images.requestedBy, requestedBy), ne(images.mode, 'portrait'), isNull(images.deletedAt)),
      )
      .orderBy(desc(images.createdAt))
      .limit(1)
      .get();
  }

  /** The newest live picture of a campaign with this scene key made since `since` (ISO 8601). */
  findRecent(scene: { campaignId: string; sceneKey: string; since: string }): ImageRow | undefined {
    return this.store.db
      .select()
      .from(images)
      .where(
        and(
          eq(images.campaignId, scene.campaignId),
          eq(images.sceneKey, scene.sceneKey),
          gte(images.createdAt, scene.since),
          isNull(images.deletedAt),
        ),
      )
      .orderBy(desc(images.createdAt))
      .limit(1)
      .get();
  }

  /** Campaigns that have live scene pictures (portraits aside), with how many, by campaign id. */
  countByCampaign(): Array<{ campaignId: string; count: number }> {
    return this.store.db
      .select({ campaignId: images.campaignId, count: count() })
      .from(images)
      .where(and(ne(images.mode, 'portrait'), isNull(images.deletedAt)))
      .groupBy(images.campaignId)
      .orderBy(asc(images.campaignId))
      .all();
  }

  /**
   * Deletes a picture: its PNG moves to `<campaign>/images/trash/<id>.png`, then its row is marked
   * deleted (who, when) and points there, in one transaction with `alongside`. The row stays so the
   * deletion is on record; readers other than {@link deletedBefore} no longer see it.
   * @throws the storage's error (nothing changed), or SQLite's or `alongside`'s (the file is moved back).
   */
  async moveToTrash(row: ImageRow, deletedBy: string, alongside?: () => void): Promise<ImageRow> {
    const trashPath = `${row.campaignId}/images/${TRASH_DIR}/${row.id}.png`;
    // A picture whose file is already gone can still leave the gallery.
    const moved = await this.storage.move(row.imagePath, trashPath);
    const deleted = { deletedAt: new Date().toISOString(), deletedBy, imagePath: trashPath };
    try {
      this.store.sqlite.transaction(() => {
        this.store.db.update(images).set(deleted).where(eq(images.id, row.id)).run();
        alongside?.();
      })();
    } catch (err) {
      if (moved) await this.storage.move(trashPath, row.imagePath);
      throw err;
    }
    return { ...row, ...deleted };
  }

  /** Deleted pictures deleted before `before` (ISO 8601), oldest first. */
  deletedBefore(before: string): ImageRow[] {
    return this.store.db
      .select()
      .from(images)
      .where(and(isNotNull(images.deletedAt), lt(images.deletedAt, before)))
      .orderBy(asc(images.deletedAt))
      .all();
  }

  /** Where a stored `image_path` is, for people: an absolute path, or an `s3://bucket/key` URL. */
  location(imagePath: string): string {
    return this.storage.locate(imagePath);
  }

  /**
   * A stored picture's bytes.
   * @throws PictureNotFoundError when its file is missing; the storage's own errors otherwise.
   */
  read(row: Pick<ImageRow, 'imagePath'>): Promise<Buffer> {
    return this.storage.get(row.imagePath);
  }
}
