/**
 * Every failure Limner expects carries a user-facing message and a stable `code`.
 * Doors (bot, CLI) show `userMessage` as is; anything that is not a {@link LimnerError}
 * is unexpected and gets logged with an error id instead.
 */
export abstract class LimnerError extends Error {
  /** Stable machine-readable code, e.g. `turn_out_of_range`. */
  abstract readonly code: string;

  /**
   * @param userMessage - Safe to show to a Discord user or CLI operator: no secrets, no stack.
   * @param options.cause - The underlying error, kept for logs.
   */
  constructor(
    readonly userMessage: string,
    options?: { cause?: unknown },
  ) {
    super(userMessage, options);
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

/** No Gemini API key in the environment. */
export class MissingApiKeyError extends LimnerError {
  readonly code = 'api_key_missing';
  constructor() {
    super('No Gemini API key is configured: set GEMINI_API_KEY (or GOOGLE_API_KEY).');
  }
}

/** A model name the Gemini API cannot serve through generateContent (e.g. `imagen-*`). */
export class UnsupportedModelError extends LimnerError {
  readonly code = 'model_unsupported';
  constructor(
    readonly model: string,
    reason: string,
  ) {
    super(`Model "${model}" cannot be used: ${reason}`);
  }
}

/** Gemini refused the prompt (`promptFeedback.blockReason`). */
export class PromptBlockedError extends LimnerError {
  readonly code = 'prompt_blocked';
  constructor(readonly blockReason: string) {
    super(
      `The request was blocked by Gemini's safety filters (${blockReason}). Try another turn or rephrase the context.`,
    );
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

/** A reply that is not what the Gemini API documents (unparseable, no candidates, bad image bytes). */
export class MalformedReplyError extends LimnerError {
  readonly code = 'reply_malformed';
  constructor(detail: string, options?: { cause?: unknown }) {
    super('Gemini sent a reply Limner could not read. Please try again.', options);
    this.detail = detail;
  }
  readonly detail: string;
}

/** A model call exceeded its total time budget (`timeoutMs`, ms), retries included. */
export class ProviderTimeoutError extends LimnerError {
  readonly code = 'provider_timeout';
  constructor(
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`Gemini did not answer within ${Math.round(timeoutMs / 1000)} s. Please try again.`, options);
  }
}

/** The Gemini API answered with an HTTP error after the SDK's retries. */
export class ProviderError extends LimnerError {
  readonly code = 'provider_failed';
  constructor(
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(ProviderError.messageFor(status), options);
  }

  private static messageFor(status: number | undefined): string {
    if (status === 429) return 'Gemini is rate-limiting Limner right now. Please try again in a minute.';
    if (status === 401 || status === 403) return 'Gemini rejected the API key. Check GEMINI_API_KEY.';
    if (status === 404) return 'Gemini does not know the configured model. Check the model names in the configuration.';
    return 'Image generation failed. Please try again.';
  }
}

/** Image bytes that sharp cannot decode or that exceed the pixel limit. */
export class InvalidImageError extends LimnerError {
  readonly code = 'image_invalid';
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`The image could not be read: ${detail}`, options);
  }
}

/** Image generation is switched off for the campaign (`enabled: false`) or globally. */
export class GenerationDisabledError extends LimnerError {
  readonly code = 'generation_disabled';
  constructor() {
    super('Image generation is not enabled for this campaign.');
  }
}
