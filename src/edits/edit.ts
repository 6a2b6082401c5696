import {
  EditPromptError,
  EditSessionElsewhereError,
  ImageGoneError,
  NoEditSessionError,
  NotImageOwnerError,
  NothingToUndoError,
  NotVariationOwnerError,
  RepaintEditError,
  RepaintPromptError,
  TooManyReferencesError,
} from './errors.ts';
import { GenerationDisabledError } from '../campaigns/errors.ts';
import { randomUUID } from 'node:crypto';
import { canvasOf } from '../scenes/canvas.ts';
import type { Campaign } from '../campaigns/campaign.ts';
import type { CampaignRepository } from '../campaigns/repository.ts';
import type { Config } from '../platform/config.ts';
import { userReferencePng, type UserReference } from '../images/reference.ts';
import type { ImageStore } from '../images/store.ts';
import { PictureNotFoundError } from '../images/errors.ts';
import type { Logger } from '../platform/log.ts';
import type { ImageRow } from '../platform/schema.ts';
import type { EditSession, SessionStore } from './sessions.ts';
import { entriesAround } from '../scenes/context.ts';
import type { CallUsage, GeminiGateway } from '../platform/gemini.ts';
import { choosePortraits, loadPortraits, MAX_INPUT_IMAGES, type ReferenceImage } from '../images/references.ts';
import { paintImage } from '../images/paint.ts';
import { originOf, type JobRunner, type Requester } from '../jobs/runner.ts';
import { isBlank } from '../platform/text.ts';

/** Longest edit instruction, characters (the `/scene edit` option and the modal field share it). */
export const MAX_INSTRUCTION_CHARS = 1000;

/**
 * User references one edit may carry: the image model's {@link MAX_INPUT_IMAGES} less the picture
 * being changed. Portraits fill what room is left, so they never crowd out the user's images.
 */
export const MAX_USER_REFERENCES = MAX_INPUT_IMAGES - 1;

/** Which picture an edit changes. */
export type EditTarget =
  /** The user's session picture in this campaign (`/scene edit`). */
  | { readonly kind: 'session'; readonly campaignId: string }
  /** A given picture (reply-to-edit, the Edit button); the session moves to the result. */
  | { readonly kind: 'image'; readonly imageId: string };

/** One edit: an instruction applied to a picture, with optional reference images. */
export interface EditRequest {
  readonly target: EditTarget;
  /** Who asks; the session moved is theirs. */
  readonly requester: Requester;
  /** What to change, 1-{@link MAX_INSTRUCTION_CHARS} characters after trimming. */
  readonly instruction: string;
  /** The user's images, sent after the campaign's portraits; at most {@link MAX_USER_REFERENCES}. */
  readonly references?: readonly UserReference[];
}

/**
 * What an edit or reroll is doing: `queued` while it waits for a free slot (again whenever its place
 * changes), `waiting` while an earlier edit of the same session is queued or running, then
 * `painting` and `saving`.
 */
export type EditProgress =
  | { readonly stage: 'queued'; /** 1 = next. */ readonly place: number }
  | { readonly stage: 'waiting' }
  | { readonly stage: 'painting' }
  | { readonly stage: 'saving' };

/** Options of the model-calling operations. */
export interface EditOptions {
  readonly onProgress?: (progress: EditProgress) => void;
}

/** Inside a job: its id for the usage ledger and its abort signal (stopped at shutdown). */
interface JobScope extends EditOptions {
  readonly jobId: string;
  readonly signal: AbortSignal;
}

/** A picture an edit operation produced or returned to; it is now the user's session picture. */
export interface EditResult {
  readonly image: ImageRow;
  /** Where the PNG is stored, for people: an absolute path, or an `s3://bucket/key` URL (`ImageStore.location`). */
  readonly file: string;
  /** The PNG's bytes when this operation painted it (saves reading it back from storage); absent for undo. */
  readonly png?: Buffer;
  readonly campaign: { readonly id: string; readonly name: string };
  /** Model calls made (none for undo). */
  readonly calls: readonly CallUsage[];
}

/** Collaborators of {@link EditPicture}. */
export interface EditDeps {
  readonly config: Config;
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
  readonly gateway: GeminiGateway;
  readonly sessions: SessionStore;
  /** Budgets, the fair queue and job rows. */
  readonly runner: JobRunner;
  readonly log: Logger;
}

/**
 * The use cases "edit, reroll, repaint from a changed prompt, pick a variation or undo a picture", for every door: a user's session
 * picture plus an instruction and references becomes a new picture (mode `edit`, `parent_image_id`
 * the picture changed) that the session then points at; reroll draws a picture again from the same
 * prompt and references; undo moves the session back to the parent. Edits and rerolls are jobs
 * (budgets, the fair queue, a job row); operations on one session (user and campaign) run one after
 * another, so each edit changes the result of the one before.
 */
export class EditPicture {
  constructor(private readonly deps: EditDeps) {}

  /**
   * The user's session in `campaignId`.
   * @throws NoEditSessionError when the user has none anywhere; EditSessionElsewhereError naming the
   *   campaign of their latest session when it is in another one.
   */
  async requireSession(userId: string, campaignId: string): Promise<EditSession> {
    const here = await this.deps.sessions.get(userId, campaignId);
    if (here) return here;
    const elsewhere = (await this.deps.sessions.ofUser(userId))[0];
    if (!elsewhere) throw new NoEditSessionError();
    throw new EditSessionElsewhereError(await this.describe(elsewhere.campaignId), await this.describe(campaignId));
  }

  /**
   * A picture the user may use Edit and Undo on: one they requested (generated, edited or rerolled).
   * @throws ImageGoneError, NotImageOwnerError
   */
  async ownedImage(imageId: string, userId: string): Promise<ImageRow> {
    const image = await this.image(imageId);
    if (image.requestedBy !== userId) throw new NotImageOwnerError();
    return image;
  }

  /**
   * Applies an instruction to the target picture and moves the user's session to the result.
   * Everything that can be checked without the model is checked before waiting for earlier edits.
   * @throws NoEditSessionError, EditSessionElsewhereError, ImageGoneError, EditPromptError,
   *   ReferenceNotImageError, ReferenceTooManyPixelsError, TooManyReferencesError, CampaignNotFoundError,
   *   CampaignFileError, GenerationDisabledError, and the model errors of {@link paintImage}.
   */
  async edit(request: EditRequest, options: EditOptions = {}): Promise<EditResult> {
    const { target, requester } = request;
    const known = await this.image(
      target.kind === 'session' ? (await this.requireSession(requester.userId, target.campaignId)).currentImageId : target.imageId,
    );
    const instruction = parseInstruction(request.instruction);
    const campaign = await this.enabledCampaign(known.campaignId);
    const maxPixels = this.deps.config.generation.max_input_pixels;
    const given = request.references ?? [];
    if (given.length > MAX_USER_REFERENCES) throw new TooManyReferencesError(given.length, MAX_USER_REFERENCES);
    const userPngs: Buffer[] = [];
    for (const reference of given) userPngs.push(await userReferencePng(reference, maxPixels));
    // Chosen for the picture's turn now: edits keep their picture's turn, so only a new scene made while this one waits could change it.
    const portraits = await this.portraitsFor(campaign, known.turn, MAX_USER_REFERENCES - userPngs.length);

    return this.asJob('scene edit', requester, campaign.id, options, async (job) => {
      // Read once the job starts: an edit waiting behind another changes that one's result.
      let base: ImageRow;
      if (target.kind === 'session') {
        const session = await this.deps.sessions.get(requester.userId, campaign.id);
        // Gone only if its picture was deleted meanwhile (the foreign key cascades).
        if (!session) throw new NoEditSessionError();
        base = await this.image(session.currentImageId);
      } else {
        base = await this.image(target.imageId);
      }
      return this.paintEdit({ campaign, base, instruction, portraits, userPngs, requester }, job);
    });
  }

  /**
   * Draws a picture again: an edit is re-applied to the same parent with the same instruction and
   * references; a generated scene is redrawn from its prompt (no new text-model call). The result
   * is a sibling (same parent, mode and turn) and becomes the requester's session picture.
   * @throws ImageGoneError (the picture, or the one it was edited from), CampaignNotFoundError,
   *   CampaignFileError, GenerationDisabledError, and the model errors of {@link paintImage}.
   */
  async reroll(request: { readonly imageId: string; readonly requester: Requester }, options: EditOptions = {}): Promise<EditResult> {
    const { requester } = request;
    const original = await this.image(request.imageId);
    const campaign = await this.enabledCampaign(original.campaignId);
    const userPngs = original.mode === 'edit' ? await this.keptReferences(original) : [];
    const room = original.mode === 'edit' ? MAX_USER_REFERENCES - userPngs.length : MAX_INPUT_IMAGES;
    const portraits = await this.portraitsFor(campaign, original.turn, room);
    return this.asJob('scene reroll', requester, campaign.id, options, async (job) => {
      if (original.mode === 'edit') {
        // A null parent on an edit means the picture it changed was deleted.
        if (original.parentImageId === null) throw new ImageGoneError(original.id, true);
        const base = await this.parentOf(original);
        return this.paintEdit({ campaign, base, instruction: original.prompt, portraits, userPngs, requester }, job);
      }
      const result = await this.redraw(
        {
          campaign,
          original,
          prompt: original.prompt,
          textModel: original.textModel,
          parentImageId: original.parentImageId,
          portraits,
          requester,
        },
        job,
      );
      this.deps.log.info(
        { imageId: result.image.id, rerollOf: original.id, campaign: campaign.id, user: requester.userId },
        'scene rerolled',
      );
      return result;
    });
  }

  /**
   * Moves the owner's session back to the picture `imageId` was edited from and returns that picture.
   * @throws ImageGoneError, NotImageOwnerError, NothingToUndoError
   */
  async undo(request: { readonly imageId: string; readonly userId: string }): Promise<EditResult> {
    const image = await this.ownedImage(request.imageId, request.userId);
    if (image.parentImageId === null) throw new NothingToUndoError();
    const parentId = image.parentImageId;
    const campaign = await this.describe(image.campaignId);
    return this.deps.runner.afterSession(sessionKey(request.userId, image.campaignId), async () => {
      const parent = await this.parentOf({ ...image, parentImageId: parentId });
      await this.deps.sessions.moveTo({ userId: request.userId, campaignId: image.campaignId, imageId: parent.id });
      this.deps.log.info({ imageId: parent.id, undoneFrom: image.id, user: request.userId }, 'edit undone');
      return this.result(parent, campaign, []);
    });
  }

  /**
   * Paints a scene picture again from a changed prompt: the image model only (no prompt-writer call),
   * with the campaign's portraits as for a reroll. The result is a new picture of the same turn and
   * mode whose parent is the original (so Undo goes back to it), and becomes the owner's session picture.
   * @param request.prompt - The whole prompt to paint, art style included; 1-`generation.max_prompt_chars` characters after trimming.
   * @throws ImageGoneError, NotImageOwnerError, RepaintEditError (a picture made by an edit),
   *   RepaintPromptError, CampaignNotFoundError, CampaignFileError, GenerationDisabledError, and
   *   the model errors of {@link paintImage}.
   */
  async repaint(
    request: { readonly imageId: string; readonly prompt: string; readonly requester: Requester },
    options: EditOptions = {},
  ): Promise<EditResult> {
    const { requester } = request;
    const original = await this.repaintable(request.imageId, requester.userId);
    const prompt = this.parsePrompt(request.prompt);
    const campaign = await this.enabledCampaign(original.campaignId);
    const portraits = await this.portraitsFor(campaign, original.turn, MAX_INPUT_IMAGES);
    return this.asJob('scene repaint', requester, campaign.id, options, async (job) => {
      const result = await this.redraw(
        { campaign, original, prompt, textModel: null, parentImageId: original.id, portraits, requester },
        job,
      );
      this.deps.log.info(
        { imageId: result.image.id, repaintOf: original.id, campaign: campaign.id, user: requester.userId },
        'scene repainted',
      );
      return result;
    });
  }

  /**
   * Paints `prompt` with `portraits` in `original`'s shape and model (no prompt writer) and saves it as
   * a picture of `original`'s turn and mode, which becomes the requester's session picture.
   */
  private async redraw(
    input: {
      readonly campaign: Campaign;
      readonly original: ImageRow;
      readonly prompt: string;
      readonly textModel: string | null;
      readonly parentImageId: string | null;
      readonly portraits: readonly ReferenceImage[];
      readonly requester: Requester;
    },
    job: JobScope,
  ): Promise<EditResult> {
    const { config, gateway, images } = this.deps;
    const { campaign, original, prompt, requester } = input;
    const origin = { ...originOf(requester), campaignId: campaign.id, jobId: job.jobId };
    job.onProgress?.({ stage: 'painting' });
    const rendered = await paintImage(
      gateway,
      config,
      prompt,
      input.portraits,
      { record: { origin, purpose: 'image' }, signal: job.signal },
      canvasOf(original),
    );
    job.onProgress?.({ stage: 'saving' });
    const image = await images.save(
      rendered,
      {
        campaignId: campaign.id,
        turn: original.turn,
        mode: original.mode,
        prompt,
        provider: 'gemini',
        model: rendered.model,
        textModel: input.textModel,
        inputTokens: rendered.usage.inputTokens,
        outputTokens: rendered.usage.outputTokens,
        costUsd: rendered.usage.costUsd,
        requestedBy: requester.userId,
        parentImageId: input.parentImageId,
      },
      { usageId: rendered.usageId, moveSession: true },
    );
    return this.result(image, campaign, [rendered.usage], rendered.png);
  }

  /**
   * A picture its owner may repaint from its prompt: theirs, and not made by an edit.
   * @throws ImageGoneError, NotImageOwnerError, RepaintEditError
   */
  async repaintable(imageId: string, userId: string): Promise<ImageRow> {
    const image = await this.image(imageId);
    if (image.requestedBy !== userId) throw new NotImageOwnerError();
    if (image.mode === 'edit') throw new RepaintEditError();
    return image;
  }

  /**
   * A repaint prompt as typed, trimmed.
   * @throws RepaintPromptError when it is blank or longer than `generation.max_prompt_chars`.
   */
  parsePrompt(text: string): string {
    const prompt = text.trim();
    const max = this.deps.config.generation.max_prompt_chars;
    if (isBlank(prompt)) throw new RepaintPromptError(max);
    if (prompt.length > max) throw new RepaintPromptError(max, prompt.length);
    return prompt;
  }

  /**
   * Picks one of the variations the user asked for: it becomes their session picture and is returned.
   * @throws ImageGoneError, NotVariationOwnerError
   */
  async pick(request: { readonly imageId: string; readonly userId: string }): Promise<EditResult> {
    const known = await this.pickable(request.imageId, request.userId);
    const campaign = await this.describe(known.campaignId);
    return this.deps.runner.afterSession(sessionKey(request.userId, known.campaignId), async () => {
      // Read again after the session's earlier jobs: it may have been deleted meanwhile.
      const image = await this.image(request.imageId);
      await this.deps.sessions.moveTo({ userId: request.userId, campaignId: image.campaignId, imageId: image.id });
      this.deps.log.info({ imageId: image.id, user: request.userId }, 'variation picked');
      return this.result(image, campaign, []);
    });
  }

  /**
   * A variation the user may pick: one they asked for.
   * @throws ImageGoneError, NotVariationOwnerError
   */
  async pickable(imageId: string, userId: string): Promise<ImageRow> {
    const image = await this.image(imageId);
    if (image.requestedBy !== userId) throw new NotVariationOwnerError();
    return image;
  }

  /**
   * The admission check of an edit or reroll for `requester`, for a door about to acknowledge.
   * @throws BudgetExceededError, QueueClosedError.
   */
  async check(requester: Requester): Promise<void> {
    await this.deps.runner.check({ kind: 'scene edit', ...requester });
  }

  /**
   * Runs `task` as a job (budgets, fair queue, job row) in the session's order: the queue does not
   * start it while an earlier job of the same session is queued or running, in any process.
   */
  private asJob<T extends EditResult>(
    kind: string,
    requester: Requester,
    campaignId: string,
    options: EditOptions,
    task: (job: JobScope) => Promise<T>,
  ): Promise<T> {
    return this.deps.runner.run(
      { kind, campaignId, ...requester, sessionKey: sessionKey(requester.userId, campaignId) },
      ({ jobId, signal }) => task({ ...options, jobId, signal }),
      {
        onPosition: (place) => options.onProgress?.({ stage: 'queued', place }),
        onSessionWait: () => options.onProgress?.({ stage: 'waiting' }),
        imageOf: (result) => result.image.id,
      },
    );
  }

  /** The model call and bookkeeping of an edit; runs in the session's order. */
  private async paintEdit(
    input: {
      readonly campaign: Campaign;
      readonly base: ImageRow;
      readonly instruction: string;
      readonly portraits: readonly ReferenceImage[];
      readonly userPngs: readonly Buffer[];
      readonly requester: Requester;
    },
    job: JobScope,
  ): Promise<EditResult> {
    const { config, gateway, images } = this.deps;
    const { campaign, base, instruction } = input;
    const started = performance.now();
    job.onProgress?.({ stage: 'painting' });
    const source = { mimeType: 'image/png', data: await this.pictureBytes(base) };
    const references = [...input.portraits, ...input.userPngs.map((data) => ({ mimeType: 'image/png', data }))];
    const origin = { ...originOf(input.requester), campaignId: campaign.id, jobId: job.jobId };
    const rendered = await paintImage(
      gateway,
      config,
      editInstructionText(instruction, references.length),
      [source, ...references],
      { record: { origin, purpose: 'edit' }, signal: job.signal },
      canvasOf(base),
    );
    job.onProgress?.({ stage: 'saving' });
    // The references are kept before the row exists: a crash leaves an unused folder, never an edit whose Reroll lacks them.
    const imageId = randomUUID();
    await this.keepReferences(campaign.id, imageId, input.userPngs);
    const image = await images.save(
      rendered,
      {
        campaignId: campaign.id,
        turn: base.turn,
        mode: 'edit',
        prompt: instruction,
        provider: 'gemini',
        model: rendered.model,
        textModel: null,
        inputTokens: rendered.usage.inputTokens,
        outputTokens: rendered.usage.outputTokens,
        costUsd: rendered.usage.costUsd,
        requestedBy: input.requester.userId,
        parentImageId: base.id,
      },
      { usageId: rendered.usageId, moveSession: true },
      imageId,
    );
    this.deps.log.info(
      {
        imageId: image.id,
        parent: base.id,
        campaign: campaign.id,
        user: input.requester.userId,
        references: references.length,
        ms: Math.round(performance.now() - started),
      },
      'picture edited',
    );
    return this.result(image, campaign, [rendered.usage], rendered.png);
  }

  /**
   * The portraits sent with a picture of `turn`: at most `room`, those who speak around the turn first.
   * @throws CampaignFileError, InvalidImageError
   */
  private portraitsFor(campaign: Campaign, turn: number, room: number): Promise<ReferenceImage[]> {
    const entries = entriesAround(campaign.transcript, turn, this.deps.config.generation.turn_radius);
    return loadPortraits(
      choosePortraits(campaign.characters, entries, room, { others: true }),
      this.deps.config.generation.max_input_pixels,
      this.deps.images.storage,
    );
  }

  /** @throws ImageGoneError (`parent`) when the picture `image` was made from is deleted. */
  private async parentOf(image: ImageRow): Promise<ImageRow> {
    const parent = image.parentImageId === null ? undefined : await this.deps.images.get(image.parentImageId);
    if (!parent) throw new ImageGoneError(image.parentImageId ?? image.id, true);
    return parent;
  }

  /** @throws ImageGoneError when there is no such row. */
  private async image(imageId: string): Promise<ImageRow> {
    const image = await this.deps.images.get(imageId);
    if (!image) throw new ImageGoneError(imageId);
    return image;
  }

  /** @throws ImageGoneError when the PNG is missing. */
  private async pictureBytes(image: ImageRow): Promise<Buffer> {
    try {
      return await this.deps.images.read(image);
    } catch (err) {
      if (err instanceof PictureNotFoundError) throw new ImageGoneError(image.id);
      throw err;
    }
  }

  /**
   * The user's references of an edit are kept with the campaign's pictures in the picture storage
   * (`<campaign>/images/references/<imageId>/<n>.png`, git-ignored like them) so that Reroll can
   * send them again.
   */
  private referencesPrefix(campaignId: string, imageId: string): string {
    return `${campaignId}/images/references/${imageId}/`;
  }

  private async keepReferences(campaignId: string, imageId: string, pngs: readonly Buffer[]): Promise<void> {
    const prefix = this.referencesPrefix(campaignId, imageId);
    for (const [i, png] of pngs.entries()) await this.deps.images.storage.put(`${prefix}${i}.png`, png);
  }

  private async keptReferences(image: ImageRow): Promise<Buffer[]> {
    const prefix = this.referencesPrefix(image.campaignId, image.id);
    const storage = this.deps.images.storage;
    const numbered = (await storage.list(prefix))
      .map((o) => o.key.slice(prefix.length))
      .filter((n) => /^\d+\.png$/.test(n))
      .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
    return Promise.all(numbered.map((n) => storage.get(`${prefix}${n}`)));
  }

  /** @throws CampaignNotFoundError, CampaignFileError, GenerationDisabledError */
  private async enabledCampaign(campaignId: string): Promise<Campaign> {
    const campaign = await this.deps.campaigns.load(campaignId);
    if (!this.deps.config.generation.enabled || !campaign.enabled) throw new GenerationDisabledError();
    return campaign;
  }

  /** Id and display name; a campaign whose folder is gone or broken is named by its id. */
  private async describe(campaignId: string): Promise<{ id: string; name: string }> {
    const found = (await this.deps.campaigns.list()).find((c) => c.id === campaignId);
    return { id: campaignId, name: found && found.name !== '(invalid campaign.yaml)' ? found.name : campaignId };
  }

  private result(
    image: ImageRow,
    campaign: { readonly id: string; readonly name: string },
    calls: readonly CallUsage[],
    png?: Buffer,
  ): EditResult {
    const file = this.deps.images.location(image.imagePath);
    return { image, file, ...(png ? { png } : {}), campaign: { id: campaign.id, name: campaign.name }, calls };
  }
}

/** The order key of a user's edit session in a campaign: its jobs run one after another. */
function sessionKey(userId: string, campaignId: string): string {
  return JSON.stringify([userId, campaignId]);
}

/**
 * An edit instruction as typed, trimmed.
 * @throws EditPromptError when it has no visible character (see `isBlank`) or is longer than {@link MAX_INSTRUCTION_CHARS}.
 */
export function parseInstruction(text: string): string {
  const instruction = text.trim();
  if (isBlank(instruction)) throw new EditPromptError(MAX_INSTRUCTION_CHARS);
  if (instruction.length > MAX_INSTRUCTION_CHARS) throw new EditPromptError(MAX_INSTRUCTION_CHARS, instruction.length);
  return instruction;
}

/**
 * The text part of an edit request. The picture to change goes first among the images, so the
 * text says so; without it the model may treat every image as a reference to combine.
 */
export function editInstructionText(instruction: string, references: number): string {
  return [
    `Edit the first image: ${instruction}`,
    'Change only what this asks for and keep the rest of the picture (composition, characters, lighting, art style) as it is.',
    ...(references > 0 ? ['The other images are references for how characters and things look.'] : []),
  ].join('\n');
}
