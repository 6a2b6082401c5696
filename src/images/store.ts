import { randomUUID } from 'node:crypto';
import { and, asc, count, desc, eq, gte, isNotNull, isNull, lt, ne } from 'drizzle-orm';
import type { CampaignId } from '../campaigns/id.ts';
import { moveSession, replaceSessionImage } from '../edits/sessions.ts';
import { writeTransaction, type Db, type Store } from '../platform/db.ts';
import type { GenerationMode, ImageRow } from '../platform/schema.ts';
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

/** What is tied to a new picture in the transaction that records it. */
export interface PictureLinks {
  /** Ledger id of the model call that painted it: that usage row is marked as this picture's. */
  readonly usageId?: number;
  /** Moves the requester's edit session in the picture's campaign to it. */
  readonly moveSession?: boolean;
  /** Cast member whose reference portrait it becomes. */
  readonly portraitOf?: number;
}

/** A picture moved to the trash ({@link ImageStore.moveToTrash}) and what became of the edit sessions on it. */
export interface TrashedPicture {
  /** The row as it now reads (deleted, its `imagePath` in the trash). */
  readonly image: ImageRow;
  /** Sessions moved to the replacement, and sessions ended for want of one. */
  readonly sessions: { readonly moved: number; readonly ended: number };
}

/** A statement built on a transaction's handle, run by the dialect's body of {@link writeTransaction}. */
interface Statement extends PromiseLike<unknown[]> {
  all(): unknown[];
}

/**
 * Runs `statements` in one transaction, SQLite's synchronously and PostgreSQL's awaited in order, and
 * returns their results. The lock is the picture's own: these transactions only write (nothing read
 * in them decides anything), so pictures need not wait for one another.
 */
function inTransaction(store: Store, imageId: string, statements: (tx: Db) => readonly Statement[]): Promise<unknown[][]> {
  return writeTransaction(store, `picture ${imageId}`, {
    sqlite: (tx) => statements(tx).map((s) => s.all()),
    postgres: async (tx) => {
      const results: unknown[][] = [];
      for (const s of statements(tx)) results.push(await s);
      return results;
    },
  });
}

/**
 * Picture files under `<campaign>/images/` in the picture storage (the campaigns folder or a
 * bucket; the row's `image_path` is the key) and their rows in the database (SQLite or PostgreSQL).
 *
 * Crash safety: the PNG is stored durably (see {@link PictureStorage.put}) under `<uuid>.png`
 * before the row is inserted; if the insert fails the file is removed once the database confirms
 * there is no row. A crash, or a database that cannot be reached, can therefore leave a temporary
 * file or an unlisted `<uuid>.png` (debris for `limner doctor`), never a row without its file.
 */
export class ImageStore {
  /** @param storage - Where the files are; every reader of picture bytes goes through it. */
  constructor(
    private readonly store: Store,
    readonly storage: PictureStorage,
  ) {}

  /**
   * Writes the PNG durably (see the class), then inserts its row in one transaction with its `links`
   * (the usage row marked as its, the requester's session moved to it, a cast member's portrait set
   * to it), so readers see all of it or none. Returns the row.
   * @param id - The picture's id (UUID) when the caller needs it before saving; a new one by default.
   * @throws the storage's error (nothing is left but crash debris), or the database's (nothing was
   *   recorded; the file is removed, or left as debris when the database cannot say there is no row).
   */
  async save(image: PngImage, meta: NewImage, links: PictureLinks = {}, id: string = randomUUID()): Promise<ImageRow> {
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
    const tables = this.store.tables;
    const { images, usage, castMembers } = tables;
    try {
      await inTransaction(this.store, id, (tx) => {
        const statements: Statement[] = [tx.insert(images).values(row).returning({ id: images.id })];
        if (links.usageId !== undefined) {
          statements.push(tx.update(usage).set({ imageId: id, images: 1 }).where(eq(usage.id, links.usageId)).returning({ id: usage.id }));
        }
        if (links.moveSession) {
          statements.push(moveSession(tx, tables, { userId: meta.requestedBy, campaignId: meta.campaignId, imageId: id }));
        }
        if (links.portraitOf !== undefined) {
          statements.push(
            tx
              .update(castMembers)
              .set({ portraitImageId: id, updatedAt: row.createdAt })
              .where(eq(castMembers.id, links.portraitOf))
              .returning({ id: castMembers.id }),
          );
        }
        return statements;
      });
    } catch (err) {
      // A commit can succeed and still be reported failed (the connection lost during it): the file
      // goes only when the row is known to be absent, and stays as debris when that cannot be known.
      const mayBeRecorded = await this.storedPath(id).then(
        (path) => path !== undefined,
        () => true,
      );
      if (!mayBeRecorded) await this.storage.delete(row.imagePath);
      throw err;
    }
    return row;
  }

  /** The `image_path` of a picture's row, deleted or not; undefined when there is no row. */
  private async storedPath(id: string): Promise<string | undefined> {
    const { images } = this.store.tables;
    const rows = await this.store.db.select({ imagePath: images.imagePath }).from(images).where(eq(images.id, id)).limit(1);
    return rows[0]?.imagePath;
  }

  /** A live (not deleted) picture's row by id, or undefined. */
  async get(id: string): Promise<ImageRow | undefined> {
    const { images } = this.store.tables;
    const rows = await this.store.db
      .select()
      .from(images)
      .where(and(eq(images.id, id), isNull(images.deletedAt)))
      .limit(1);
    return rows[0];
  }

  /** A campaign's live scene pictures by turn, then creation time; cast portraits are no scene and are left out. */
  async list(campaignId: CampaignId, filter: { requestedBy?: string } = {}): Promise<ImageRow[]> {
    const { images } = this.store.tables;
    const scenes = and(eq(images.campaignId, campaignId), ne(images.mode, 'portrait'), isNull(images.deletedAt));
    const where = filter.requestedBy ? and(scenes, eq(images.requestedBy, filter.requestedBy)) : scenes;
    // Pictures saved in one millisecond (variations) are ordered by id, the same way on both dialects.
    return this.store.db.select().from(images).where(where).orderBy(asc(images.turn), asc(images.createdAt), asc(images.id));
  }

  /** The newest live scene picture (portraits aside) `requestedBy` made in a campaign, or undefined. */
  async latestOf(campaignId: string, requestedBy: string): Promise<ImageRow | undefined> {
    const { images } = this.store.tables;
    const rows = await this.store.db
      .select()
      .from(images)
      .where(
        and(eq(images.campaignId, campaignId), eq(images.requestedBy, requestedBy), ne(images.mode, 'portrait'), isNull(images.deletedAt)),
      )
      .orderBy(desc(images.createdAt), desc(images.id))
      .limit(1);
    return rows[0];
  }

  /**
   * The newest live picture of a campaign with this scene key made since `since` (ISO 8601), as a
   * query on `db` not yet run, so that a transaction can read it: `db` is then the transaction's
   * handle, and the query is awaited in a PostgreSQL body or `.all()`-ed in a SQLite one. At most one row.
   */
  findRecent(scene: { campaignId: string; sceneKey: string; since: string }, db: Db = this.store.db) {
    const { images } = this.store.tables;
    return db
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
      .orderBy(desc(images.createdAt), desc(images.id))
      .limit(1);
  }

  /** Campaigns that have live scene pictures (portraits aside), with how many, by campaign id. */
  async countByCampaign(): Promise<Array<{ campaignId: string; count: number }>> {
    const { images } = this.store.tables;
    return this.store.db
      .select({ campaignId: images.campaignId, count: count() })
      .from(images)
      .where(and(ne(images.mode, 'portrait'), isNull(images.deletedAt)))
      .groupBy(images.campaignId)
      .orderBy(asc(images.campaignId));
  }

  /**
   * Deletes a picture: its PNG moves to `<campaign>/images/trash/<id>.png`, then, in one transaction,
   * its row is marked deleted (who, when) and points there, and the edit sessions on it move to
   * `sessionsTo` (its parent) or, when that is null, end. The row stays so the deletion is on record;
   * readers other than {@link deletedBefore} no longer see it.
   * @throws the storage's error (nothing changed), or the database's (the file is moved back, unless the
   *   database cannot say whether the row already points at the trash).
   */
  async moveToTrash(row: ImageRow, deletedBy: string, sessionsTo: string | null): Promise<TrashedPicture> {
    const trashPath = `${row.campaignId}/images/${TRASH_DIR}/${row.id}.png`;
    // A picture whose file is already gone can still leave the gallery.
    const moved = await this.storage.move(row.imagePath, trashPath);
    const deleted = { deletedAt: new Date().toISOString(), deletedBy, imagePath: trashPath };
    const tables = this.store.tables;
    const { images } = tables;
    let replaced: number;
    try {
      const [, sessions] = await inTransaction(this.store, row.id, (tx) => [
        tx.update(images).set(deleted).where(eq(images.id, row.id)).returning({ id: images.id }),
        replaceSessionImage(tx, tables, row.id, sessionsTo),
      ]);
      replaced = sessions!.length;
    } catch (err) {
      // As in save: the file moves back only when the row is known not to point at the trash.
      const mayPointAtTrash = await this.storedPath(row.id).then(
        (path) => path === trashPath,
        () => true,
      );
      if (moved && !mayPointAtTrash) await this.storage.move(trashPath, row.imagePath);
      throw err;
    }
    return { image: { ...row, ...deleted }, sessions: sessionsTo ? { moved: replaced, ended: 0 } : { moved: 0, ended: replaced } };
  }

  /** Deleted pictures deleted before `before` (ISO 8601), oldest first. */
  async deletedBefore(before: string): Promise<ImageRow[]> {
    const { images } = this.store.tables;
    return this.store.db
      .select()
      .from(images)
      .where(and(isNotNull(images.deletedAt), lt(images.deletedAt, before)))
      .orderBy(asc(images.deletedAt));
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
