import path from 'node:path';

/**
 * A failure Limner expects (after Sapphire's `UserError`: an identifier plus context): a stable
 * `code`, the context as readonly fields of each subclass, and a plain sentence as `message` for logs.
 * Each door words codes in its own messages module (`commands/messages.ts` for Discord,
 * `src/cli/messages.ts` for the terminal) and falls back to `message`, which therefore names no
 * slash command, button or flag. Anything that is not a LimnerError is unexpected and is logged
 * with an error id that the user sees.
 */
export abstract class LimnerError extends Error {
  /** Stable machine-readable code, e.g. `turn_out_of_range`. */
  abstract readonly code: string;

  /**
   * @param message - Safe to show to anyone: no secrets, no stack, no door's vocabulary.
   * @param options.cause - The underlying error, kept for logs.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Configuration files or environment are invalid; `issues` lists every problem with its path. */
export class ConfigError extends LimnerError {
  readonly code = 'config_invalid';
  constructor(readonly issues: readonly string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

/** A campaign id that does not match `[a-z0-9][a-z0-9-]{0,63}`; refused before any file system access. */
export class InvalidCampaignIdError extends LimnerError {
  readonly code = 'campaign_id_invalid';
  constructor(readonly campaignId: string) {
    super(
      `"${campaignId.slice(0, 80)}" is not a valid campaign id: use 1-64 lowercase letters, digits and dashes, starting with a letter or digit.`,
    );
  }
}

/** No folder (or no campaign.yaml) for a valid campaign id. */
export class CampaignNotFoundError extends LimnerError {
  readonly code = 'campaign_not_found';
  constructor(readonly campaignId: string) {
    super(`No campaign named "${campaignId}".`);
  }
}

/**
 * A campaign file (campaign.yaml, transcript, CRD3 episode) is malformed.
 * `file` is the path, `location` names the entry or line (e.g. `line 12`, `entry 3 (turn)`).
 */
export class CampaignFileError extends LimnerError {
  readonly code = 'campaign_file_invalid';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problems.join('; ')}`, options);
  }

  /**
   * The same error naming the file relative to `root` (e.g. `kraghammer/transcript.jsonl`), for
   * messages that reach Discord users, who should not see the server's folders.
   */
  relativeTo(root: string): CampaignFileError {
    const relative = path.relative(root, this.file).split(path.sep).join('/');
    return relative.startsWith('..') ? this : new CampaignFileError(relative || '.', this.problems, { cause: this.cause });
  }
}

/** A requested turn is outside the transcript. Turns are 1-based. */
export class TurnOutOfRangeError extends LimnerError {
  readonly code = 'turn_out_of_range';
  constructor(
    readonly turn: number,
    readonly first: number,
    readonly last: number,
  ) {
    super(`Turn ${turn} is out of range: this campaign has turns ${first}-${last}.`);
  }
}

/**
 * A turn inside the transcript's range that no entry has (transcripts may skip numbers); `nearest`
 * are the closest turns that exist, the one before and the one after (one of them at an end).
 */
export class TurnMissingError extends LimnerError {
  readonly code = 'turn_missing';
  constructor(
    readonly turn: number,
    readonly nearest: readonly number[],
  ) {
    super(`This campaign's story has no turn ${turn}; the nearest are ${nearest.map((t) => `turn ${t}`).join(' and ')}.`);
  }
}

/** No Gemini API key in the environment. */
export class MissingApiKeyError extends LimnerError {
  readonly code = 'api_key_missing';
  constructor() {
    super('No Gemini API key is configured: set GEMINI_API_KEY (or GOOGLE_API_KEY).');
  }
}

/** Gemini refused the prompt (`promptFeedback.blockReason`). */
export class PromptBlockedError extends LimnerError {
  readonly code = 'prompt_blocked';
  constructor(readonly blockReason: string) {
    super(`The request was blocked by Gemini's safety filters (${blockReason}). Try another turn or rephrase the context.`);
  }
}

/**
 * Why a candidate ended without a usable image: Gemini `finishReason` values
 * (SAFETY, IMAGE_SAFETY, PROHIBITED_CONTENT, NO_IMAGE, RECITATION, ...) or `NO_IMAGE_PART`
 * when the reply ended normally but carried no image.
 */
export class NoImageError extends LimnerError {
  readonly code = 'no_image';
  constructor(readonly finishReason: string) {
    super(NoImageError.messageFor(finishReason));
  }

  private static messageFor(reason: string): string {
    switch (reason) {
      case 'SAFETY':
      case 'IMAGE_SAFETY':
        return `The picture was withheld by Gemini's safety filters (${reason}). Try another turn or add context.`;
      case 'PROHIBITED_CONTENT':
        return 'Gemini refused this scene as prohibited content. Try another turn.';
      case 'NO_IMAGE':
        return 'Gemini could not draw this scene (NO_IMAGE). Try again or pick another turn.';
      case 'NO_IMAGE_PART':
        return 'Gemini answered with text but no picture. Please try again.';
      default:
        return `Gemini stopped without a picture (${reason}). Please try again.`;
    }
  }
}

/**
 * A reply that is not what the Gemini API documents (unparseable, no candidates, bad image bytes).
 * `detail` is for logs; `options.arrived`, when given, says in the message what arrived (e.g.
 * `a picture (image/png, 16 bytes)`).
 */
export class MalformedReplyError extends LimnerError {
  readonly code = 'reply_malformed';
  constructor(detail: string, options?: { cause?: unknown; arrived?: string }) {
    super(`Gemini sent ${options?.arrived ?? 'a reply'} that Limner could not read. Please try again.`, options);
    this.detail = detail;
  }
  readonly detail: string;
}

/**
 * A text reply that reached the output token limit (`finishReason` MAX_TOKENS) before any text:
 * on Gemini 3 thinking tokens count against the same limit.
 */
export class ReplyCutOffError extends LimnerError {
  readonly code = 'reply_cut_off';
  constructor() {
    super('Gemini ran out of room before it finished answering. Please try again.');
  }
}

/**
 * The step of a scene or edit a model call was made for: `scan` reads the session (`/scene best`),
 * `prompt` writes the picture's prompt, `image` paints (or edits) the picture.
 */
export type ModelStep = 'scan' | 'prompt' | 'image';

/** How messages name each {@link ModelStep}. */
const STEP_WORDS: Readonly<Record<ModelStep, string>> = {
  scan: 'reading the session',
  prompt: 'writing the prompt',
  image: 'painting the picture',
};

/** A model call exceeded its total time budget (`timeoutMs`, ms), retries included; `step` says which call. */
export class ProviderTimeoutError extends LimnerError {
  readonly code = 'provider_timeout';
  readonly step: ModelStep | undefined;
  constructor(
    readonly timeoutMs: number,
    options?: { cause?: unknown; step?: ModelStep },
  ) {
    const during = options?.step ? ` while ${STEP_WORDS[options.step]}` : '';
    super(`Gemini did not answer within ${Math.round(timeoutMs / 1000)} s${during}. Please try again.`, options);
    this.step = options?.step;
  }
}

/**
 * The Gemini API answered with an HTTP error after the retries. `step` says which call failed;
 * `retryAfterMs` is the wait a rate-limit answer (429) asked for, when it named one.
 */
export class ProviderError extends LimnerError {
  readonly code = 'provider_failed';
  readonly step: ModelStep | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly status: number | undefined,
    options?: { cause?: unknown; step?: ModelStep; retryAfterMs?: number },
  ) {
    super(ProviderError.messageFor(status, options?.step, options?.retryAfterMs), options);
    this.step = options?.step;
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** True when the operator must act (key, model or request), not the user by trying again. */
  get operatorFault(): boolean {
    return this.status === 400 || this.status === 401 || this.status === 403 || this.status === 404;
  }

  private static messageFor(status: number | undefined, step: ModelStep | undefined, retryAfterMs: number | undefined): string {
    if (status === 429) {
      const when = retryAfterMs === undefined ? 'in a minute' : `in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`;
      return `Limner has reached Gemini's rate limit${step ? ` while ${STEP_WORDS[step]}` : ''}. Please try again ${when}.`;
    }
    if (status === 401 || status === 403) return `Gemini rejected the API key (HTTP ${status}).`;
    if (status === 404) return 'Gemini does not offer the configured model (HTTP 404).';
    if (status === 400) return 'Gemini refused the request as invalid (HTTP 400).';
    if (step === 'scan' || step === 'prompt') return `Gemini failed while ${STEP_WORDS[step]}${status ? ` (HTTP ${status})` : ''}. Please try again.`;
    return `Gemini answered with an error${status ? ` (HTTP ${status})` : ''}. Please try again.`;
  }
}

/** A picture from the model with more pixels than `limitPixels` (`generation.max_input_pixels`): not decoded, not kept. */
export class ModelImageTooLargeError extends LimnerError {
  readonly code = 'model_image_too_large';
  constructor(
    readonly limitPixels: number,
    options?: { cause?: unknown },
  ) {
    super(
      `Gemini sent a picture larger than ${limitPixels.toLocaleString('en-US')} pixels (width × height), the limit of generation.max_input_pixels, so it was not kept. Please try again.`,
      options,
    );
  }
}

/** A reply to a picture request whose data part is not an image: `mimeType` says what arrived. */
export class NonImagePartError extends LimnerError {
  readonly code = 'reply_not_image';
  constructor(readonly mimeType: string) {
    super(`Gemini answered with ${mimeType.slice(0, 100)} data instead of a picture. Please try again.`);
  }
}

/** Image bytes that sharp cannot decode or that exceed the pixel limit (then `limitPixels` is that limit). */
export class InvalidImageError extends LimnerError {
  readonly code = 'image_invalid';
  readonly limitPixels: number | undefined;
  constructor(detail: string, options?: { cause?: unknown; limitPixels?: number }) {
    super(`The image could not be read: ${detail}`, options);
    this.limitPixels = options?.limitPixels;
  }
}

/** Image generation is switched off for the campaign (`enabled: false`) or globally. */
export class GenerationDisabledError extends LimnerError {
  readonly code = 'generation_disabled';
  constructor() {
    super('Image generation is not enabled for this campaign.');
  }
}

/**
 * The scanner (`/scene best`) named a turn it was not shown, on its first answer and on the retry.
 * `turn` is the last turn it named; `shown` describes what it read, e.g. `turns 1-340`.
 */
export class ScanTurnError extends LimnerError {
  readonly code = 'scan_turn_invalid';
  constructor(
    readonly turn: number,
    readonly shown: string,
  ) {
    super(`Gemini twice picked a turn it had not read (turn ${turn}; it read ${shown}), so no best scene was chosen. Please try again.`);
  }
}

/** The scanner's structured output (`/scene best`) was not the requested JSON, on its first answer and on the retry. */
export class ScanReplyError extends LimnerError {
  readonly code = 'scan_reply_malformed';
  constructor(
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'Gemini twice answered the session scan with something other than the requested JSON, so no best scene was chosen. Please try again.',
      options,
    );
  }
}

/** `/scene edit` by a user who has no edit session in any campaign. */
export class NoEditSessionError extends LimnerError {
  readonly code = 'edit_session_missing';
  constructor() {
    super('No active image session: make a picture first.');
  }
}

/** `/scene edit` in one campaign's channel by a user whose only (latest) session is in another campaign. */
export class EditSessionElsewhereError extends LimnerError {
  readonly code = 'edit_session_other_campaign';
  constructor(
    readonly sessionCampaign: { readonly id: string; readonly name: string },
    readonly here: { readonly id: string; readonly name: string },
  ) {
    super(`The active image session is in campaign ${sessionCampaign.name} (${sessionCampaign.id}), not in ${here.name} (${here.id}).`);
  }
}

/** An edit instruction that is blank or longer than `maxChars` characters. */
export class EditPromptError extends LimnerError {
  readonly code: 'edit_prompt_empty' | 'edit_prompt_too_long';
  constructor(maxChars: number, length?: number) {
    super(
      length === undefined
        ? 'The edit prompt is empty: say what to change, e.g. "make it night" or "give the dwarf a red cloak".'
        : `The edit prompt is ${length.toLocaleString('en-US')} characters long; keep it to ${maxChars.toLocaleString('en-US')}.`,
    );
    this.code = length === undefined ? 'edit_prompt_empty' : 'edit_prompt_too_long';
  }
}

/** A user's reference file that is not a PNG, JPEG, WebP or GIF image. */
export class ReferenceNotImageError extends LimnerError {
  readonly code = 'reference_not_image';
  constructor(
    readonly fileName: string,
    options?: { cause?: unknown },
  ) {
    super(`"${fileName.slice(0, 100)}" is not an image Limner can use as a reference: attach a PNG, JPEG, WebP or GIF.`, options);
  }
}

/** A user's reference image with more pixels than `limitPixels` (sharp `limitInputPixels`). */
export class ReferenceTooManyPixelsError extends LimnerError {
  readonly code = 'reference_too_many_pixels';
  constructor(
    readonly fileName: string,
    readonly limitPixels: number,
    options?: { cause?: unknown },
  ) {
    super(
      `"${fileName.slice(0, 100)}" has too many pixels: reference images can have at most ${limitPixels.toLocaleString('en-US')} (width × height).`,
      options,
    );
  }
}

/** More reference images than the image model accepts with one edit; `allowed` user images fit. */
export class TooManyReferencesError extends LimnerError {
  readonly code = 'references_too_many';
  constructor(
    readonly given: number,
    readonly allowed: number,
  ) {
    super(`Too many reference images (${given}): an edit can take at most ${allowed}.`);
  }
}

/** Edit or Undo on a picture of another user's lineage. */
export class NotImageOwnerError extends LimnerError {
  readonly code = 'image_not_owned';
  constructor() {
    super("This picture belongs to another user's edit session: only they can edit it in place or undo it.");
  }
}

/** Undo on a picture that was not made by editing another. */
export class NothingToUndoError extends LimnerError {
  readonly code = 'undo_nothing';
  constructor() {
    super('This is the first picture of its edit session: there is nothing to undo.');
  }
}

/** A picture (or the one it was edited from) that is no longer stored. */
export class ImageGoneError extends LimnerError {
  readonly code = 'image_gone';
  constructor(readonly imageId: string) {
    super('That picture is no longer stored.');
  }
}

/** A campaign whose story has no turns yet (a play-by-post channel before its first story message). */
export class EmptyTranscriptError extends LimnerError {
  readonly code = 'transcript_empty';
  constructor() {
    super('There is no story to illustrate yet: this campaign has no turns.');
  }
}
