import { ImageGoneError } from '../edits/errors.ts';
import type { LinkStore } from '../campaigns/links.ts';
import type { Logger } from '../platform/log.ts';
import type { ImageRow } from '../platform/schema.ts';
import { DeleteNotAllowedError, NothingToDeleteError } from './errors.ts';
import type { ImageStore } from './store.ts';

/** Which picture to delete, and who asks. */
export type DeleteTarget =
  | { readonly kind: 'image'; readonly imageId: string }
  /** The user's newest live picture in the campaign. */
  | { readonly kind: 'latest'; readonly campaignId: string };

/** One delete request. */
export interface DeleteRequest {
  readonly target: DeleteTarget;
  /** Discord user id or `cli`. */
  readonly userId: string;
  /** True when the user may delete other people's pictures (on Discord: Manage Messages in the channel). */
  readonly moderator: boolean;
}

/** A message that showed the deleted picture (a channel and message id where it was posted). */
export interface ShownIn {
  readonly messageId: string;
  readonly channelId: string;
}

/** What a delete did, for the door to tidy up where the picture was shown. */
export interface DeleteResult {
  /** The row as it now reads (deleted, its `imagePath` in the trash). */
  readonly image: ImageRow;
  /** Messages showing the picture alone: they should go. */
  readonly messages: readonly ShownIn[];
  /** Contact sheets the picture is on beside others: they should be redrawn without it. */
  readonly sheets: readonly ShownIn[];
  /** Edit sessions moved to the picture's parent, and sessions ended for want of one. */
  readonly sessions: { readonly moved: number; readonly ended: number };
}

/**
 * The use case "delete a picture": the picture's creator or a moderator removes it from the gallery,
 * exports and edit sessions (sessions on it move to its parent, if it is still there, else end). The
 * PNG goes to `<campaign>/images/trash/` and is purged after `images.trash_days` ({@link purgeTrash});
 * the row stays, marked with who deleted it and when, and the usage ledger is untouched, so budgets
 * and reports still count what it cost.
 */
export class DeletePicture {
  constructor(private readonly deps: { images: ImageStore; links: LinkStore; log: Logger; trashDays: number }) {}

  /**
   * The picture a request would delete, checked without changing anything (for a door's private precheck).
   * Cast portraits are refused as gone.
   * @throws ImageGoneError, NothingToDeleteError, DeleteNotAllowedError
   */
  async allowed(request: DeleteRequest): Promise<ImageRow> {
    const { target } = request;
    const image =
      target.kind === 'image'
        ? await this.deps.images.get(target.imageId)
        : await this.deps.images.latestOf(target.campaignId, request.userId);
    if (!image) throw target.kind === 'image' ? new ImageGoneError(target.imageId) : new NothingToDeleteError(target.campaignId);
    // A cast portrait is no scene: it is replaced through the cast, never deleted on its own.
    if (image.mode === 'portrait') throw new ImageGoneError(image.id);
    if (image.requestedBy !== request.userId && !request.moderator) throw new DeleteNotAllowedError();
    return image;
  }

  /**
   * Deletes the picture (see the class) and says where it was shown.
   * @throws the errors of {@link allowed}, and the picture storage's or the database's (then nothing changed).
   */
  async delete(request: DeleteRequest): Promise<DeleteResult> {
    const { images, links, log } = this.deps;
    const image = await this.allowed(request);
    const parent = image.parentImageId ? await images.get(image.parentImageId) : undefined;
    const { image: deleted, sessions } = await images.moveToTrash(image, request.userId, parent?.id ?? null);
    log.info({ imageId: image.id, campaign: image.campaignId, by: request.userId, owner: image.requestedBy, sessions }, 'picture deleted');
    return { image: deleted, messages: await links.messagesOf(image.id), sheets: await links.sheetsOf(image.id), sessions };
  }

  /**
   * Removes the files of pictures deleted more than `images.trash_days` days before `now`; their rows
   * stay as the record of the deletion. Returns the paths removed, relative to the campaigns folder.
   */
  async purgeTrash(now: Date = new Date()): Promise<string[]> {
    const before = new Date(now.getTime() - this.deps.trashDays * 86_400_000).toISOString();
    const purged: string[] = [];
    for (const row of await this.deps.images.deletedBefore(before)) {
      // False when purged before: the row outlives its file.
      if (await this.deps.images.storage.delete(row.imagePath)) purged.push(row.imagePath);
    }
    if (purged.length > 0) this.deps.log.info({ files: purged.length }, 'deleted pictures purged from the trash');
    return purged;
  }
}
