import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { and, asc, count, desc, eq, gte } from 'drizzle-orm';
import type { CampaignId } from '../campaigns/id.ts';
import { writeFileAtomic } from '../platform/files.ts';
import type { Store } from '../platform/db.ts';
import { images, type GenerationMode, type ImageRow } from '../platform/schema.ts';
import type { PngImage } from './normalise.ts';

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
}

/**
 * Picture files under `campaigns/<id>/images/` and their rows in SQLite.
 *
 * Crash safety: the PNG is written to a temporary file, flushed and renamed to `<uuid>.png`
 * before the row is inserted; if the insert fails the file is removed. A crash can therefore
 * leave a temporary file or an unlisted `<uuid>.png` (debris for a later clean-up), never a
 * row without its file.
 */
export class ImageStore {
  /** {@link commit}s in flight, for {@link settled}. */
  private readonly committing = new Set<Promise<void>>();

  /** @param campaignsDir - Absolute path of the campaigns folder; stored paths are relative to it. */
  constructor(
    private readonly store: Store,
    private readonly campaignsDir: string,
  ) {}

  /** Writes the PNG and its row; returns the row ({@link prepare} then {@link commit}). */
  async save(image: PngImage, meta: NewImage): Promise<ImageRow> {
    const row = this.prepare(image, meta);
    await this.commit(image, row);
    return row;
  }

  /**
   * The row a picture will have once {@link commit}ted: a new id, its path and creation time. Writes
   * nothing, so a door can show the picture (its id is in the buttons) while it is stored.
   */
  prepare(image: PngImage, meta: NewImage): ImageRow {
    const id = randomUUID();
    return {
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
    };
  }

  /**
   * Writes a {@link prepare}d picture: the PNG durably (see the class), then its row, in one SQLite
   * transaction with `alongside` (e.g. the requester's session moving to it), so whoever waits on
   * {@link settled} sees both or neither.
   * @throws the file system's error (nothing is left but crash debris), or SQLite's or `alongside`'s
   *   (nothing was inserted and the file is removed).
   */
  async commit(image: PngImage, row: ImageRow, alongside?: () => void): Promise<void> {
    const work = this.write(image, row, alongside);
    this.committing.add(work);
    try {
      await work;
    } finally {
      this.committing.delete(work);
    }
  }

  /**
   * Resolves once every {@link commit} in flight now has finished, stored or failed; at once when
   * none is. A door can show a picture while it is stored: whatever reads the user's pictures or
   * edit session waits here first, so a command sent the moment the picture appeared sees it.
   */
  async settled(): Promise<void> {
    if (this.committing.size > 0) await Promise.allSettled([...this.committing]);
  }

  private async write(image: PngImage, row: ImageRow, alongside?: () => void): Promise<void> {
    const file = this.absolutePath(row.imagePath);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, image.png);
    try {
      this.store.sqlite.transaction(() => {
        this.store.db.insert(images).values(row).run();
        alongside?.();
      })();
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
  }

  /** A row by id, or undefined. */
  get(id: string): ImageRow | undefined {
    return this.store.db.select().from(images).where(eq(images.id, id)).get();
  }

  /** A campaign's pictures by turn, then creation time. */
  list(campaignId: CampaignId, filter: { requestedBy?: string } = {}): ImageRow[] {
    const where = filter.requestedBy
      ? and(eq(images.campaignId, campaignId), eq(images.requestedBy, filter.requestedBy))
      : eq(images.campaignId, campaignId);
    return this.store.db.select().from(images).where(where).orderBy(asc(images.turn), asc(images.createdAt)).all();
  }

  /**
   * The newest picture of the same scene made since `since` (ISO 8601): same campaign, turn,
   * generation mode and image model. Edits are never matched (their mode is `edit`).
   */
  findRecent(scene: { campaignId: string; turn: number; mode: GenerationMode; model: string; since: string }): ImageRow | undefined {
    return this.store.db
      .select()
      .from(images)
      .where(
        and(
          eq(images.campaignId, scene.campaignId),
          eq(images.turn, scene.turn),
          eq(images.mode, scene.mode),
          eq(images.model, scene.model),
          gte(images.createdAt, scene.since),
        ),
      )
      .orderBy(desc(images.createdAt))
      .limit(1)
      .get();
  }

  /** Campaigns that have pictures, with how many, by campaign id. */
  countByCampaign(): Array<{ campaignId: string; count: number }> {
    return this.store.db
      .select({ campaignId: images.campaignId, count: count() })
      .from(images)
      .groupBy(images.campaignId)
      .orderBy(asc(images.campaignId))
      .all();
  }

  /** Absolute path of a stored `image_path`. */
  absolutePath(imagePath: string): string {
    return path.join(this.campaignsDir, ...imagePath.split('/'));
  }
}
