import { LimnerError } from '../errors.ts';

/** Configuration files or environment are invalid; `issues` lists every problem with its path. */
export class ConfigError extends LimnerError {
  readonly code = 'config_invalid';
  constructor(readonly issues: readonly string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

/**
 * The database could not be opened or migrated: a PostgreSQL server that refuses or is not there, or
 * a SQLite file that cannot be created. `target` is the file or the URL without its password.
 */
export class DatabaseUnavailableError extends LimnerError {
  readonly code = 'database_unavailable';
  constructor(
    readonly target: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `The database ${target} cannot be opened: ${reason}. Check \`database\` (or LIMNER_DATABASE_URL) and that the server is running.`,
      options,
    );
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
    if (step === 'scan' || step === 'prompt')
      return `Gemini failed while ${STEP_WORDS[step]}${status ? ` (HTTP ${status})` : ''}. Please try again.`;
    return `Gemini answered with an error${status ? ` (HTTP ${status})` : ''}. Please try again.`;
  }
}

/** A reply to a picture request whose data part is not an image: `mimeType` says what arrived. */
export class NonImagePartError extends LimnerError {
  readonly code = 'reply_not_image';
  constructor(readonly mimeType: string) {
    super(`Gemini answered with ${mimeType.slice(0, 100)} data instead of a picture. Please try again.`);
  }
}
