import {
  MalformedReplyError,
  MissingApiKeyError,
  NoImageError,
  NonImagePartError,
  PromptBlockedError,
  ProviderError,
  ProviderTimeoutError,
  ReplyCutOffError,
  type ModelStep,
} from './errors.ts';
import type {
  Candidate,
  GenerateContentParameters,
  GenerateContentResponse,
  GenerateContentResponseUsageMetadata,
  GoogleGenAI,
} from '@google/genai';
import type { Config, ModelPrice, Secrets } from './config.ts';
import { LimnerError } from '../errors.ts';
import type { Logger } from './log.ts';
import type { CallPurpose } from './schema.ts';
import { estimateRequestTokens } from './tokens.ts';
import { retryDelayMs, withRateLimitRetries } from './retry-after.ts';

/**
 * HTTP statuses the SDK retries: request timeout and server errors (Gemini API troubleshooting
 * guide: 500 INTERNAL, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED). The rate limit (429) is retried by
 * {@link withRateLimitRetries} instead, which waits as long as the answer asks.
 */
const RETRYABLE_STATUSES = [408, 500, 502, 503, 504];

/** Which step of a scene each call purpose is, for messages naming the step that failed. */
const STEP_OF: Readonly<Record<CallPurpose, ModelStep>> = {
  scan: 'scan',
  compare: 'scan',
  prompt: 'prompt',
  image: 'image',
  edit: 'image',
  cast: 'scan',
  portrait: 'image',
};

/** Token counts of one call, from `usageMetadata`. */
export interface CallUsage {
  readonly model: string;
  /** `promptTokenCount`. */
  readonly inputTokens: number;
  /** `candidatesTokenCount` plus `thoughtsTokenCount` (both billed as output). */
  readonly outputTokens: number;
  /** Output tokens of the IMAGE modality (`candidatesTokensDetails`), part of `outputTokens`. */
  readonly imageTokens: number;
  /** Estimated USD from the price table; 0 when the model has no price. */
  readonly costUsd: number;
  /** Limner's estimate of `inputTokens`, made before the call without a network request. */
  readonly estimatedInputTokens: number;
}

/**
 * The token and cost totals of several calls, as a picture made by them carries them:
 * `inputTokens` and `outputTokens` summed, `costUsd` (USD) summed.
 */
export function callTotals(calls: readonly CallUsage[]): { inputTokens: number; outputTokens: number; costUsd: number } {
  return calls.reduce(
    (t, c) => ({
      inputTokens: t.inputTokens + c.inputTokens,
      outputTokens: t.outputTokens + c.outputTokens,
      costUsd: t.costUsd + c.costUsd,
    }),
    { inputTokens: 0, outputTokens: 0, costUsd: 0 },
  );
}

/** Who a model call was made for; Discord ids when it came through the bot. */
export interface CallOrigin {
  /** Discord user id or `cli`. */
  readonly userId: string;
  readonly guildId?: string | null;
  readonly channelId?: string | null;
  readonly campaignId?: string | null;
  readonly jobId?: string | null;
  /** The operator bypassed budgets for this call (CLI `--ignore-budget`). */
  readonly budgetBypassed?: boolean;
}

/**
 * Where the gateway records each billed call (the usage ledger): declared here so that the gateway
 * does not depend on the ledger's module, which depends on this one for {@link CallUsage}.
 */
export interface CallRecorder {
  /** Records one call and returns its row id. */
  record(origin: CallOrigin, purpose: CallPurpose, call: CallUsage): Promise<number>;
}

/** Who a call is for and why, for the usage ledger. */
export interface CallRecord {
  readonly origin: CallOrigin;
  readonly purpose: CallPurpose;
}

/** Options of {@link GeminiGateway.generate}. */
export interface GenerateOptions {
  readonly record: CallRecord;
  readonly signal?: AbortSignal | undefined;
}

/** A reply that has a candidate, with its usage as recorded. */
export interface GeneratedReply {
  readonly response: GenerateContentResponse;
  readonly candidate: Candidate;
  readonly usage: CallUsage;
  /** The usage ledger row of this call. */
  readonly usageId: number;
}

/** Image bytes as the model returned them. */
export interface ModelImage {
  readonly mimeType: string;
  readonly data: Buffer;
}

/**
 * The one place Limner talks to the Gemini API. Owns the SDK client, the retry and
 * timeout policy, and the mapping of every failure to a typed {@link LimnerError}.
 */
export class GeminiGateway {
  private client: Promise<GoogleGenAI> | undefined;
  /** The SDK module once {@link ai} has loaded it, for `ApiError`. */
  private sdk: typeof import('@google/genai') | undefined;

  /**
   * @param usage - Where every reply is recorded, failures included, so spend and budgets see each billed call.
   * @param observe - Told each call's model, duration (seconds, retries included) and outcome (`ok` or the error code).
   */
  constructor(
    private readonly config: Config,
    private readonly secrets: Secrets,
    private readonly usage: CallRecorder,
    private readonly observe?: (model: string, seconds: number, outcome: string) => void,
  ) {}

  /**
   * The SDK client, made on first use so commands that need no model run without a key, and the
   * SDK (about 25 MB resident) is loaded only once a model is called.
   * @throws MissingApiKeyError
   */
  private ai(): Promise<GoogleGenAI> {
    if (this.client) return this.client;
    if (!this.secrets.geminiApiKey) return Promise.reject(new MissingApiKeyError());
    const apiKey = this.secrets.geminiApiKey;
    const { gemini } = this.config;
    this.client = import('@google/genai').then((sdk) => {
      this.sdk = sdk;
      return new sdk.GoogleGenAI({
        apiKey,
        apiVersion: gemini.api_version,
        httpOptions: {
          ...(gemini.base_url ? { baseUrl: gemini.base_url } : {}),
          timeout: gemini.attempt_timeout_ms,
          retryOptions: {
            attempts: gemini.retry.attempts,
            initialDelay: gemini.retry.initial_delay_s,
            maxDelay: gemini.retry.max_delay_s,
            httpStatusCodes: RETRYABLE_STATUSES,
          },
        },
      });
    });
    return this.client;
  }

  /**
   * Calls `models.generateContent` within the total time budget (`gemini.total_timeout_ms`,
   * retries included), records the reply in the usage ledger under `options.record` before looking
   * at it (a blocked or unusable reply is billed too), and checks it has a usable candidate.
   * @param options.record - Who the call is for and why; required so that no call goes unrecorded.
   * @param options.signal - Cancels the call (e.g. the job was stopped).
   * @returns The reply, its first candidate, its usage and the id of its ledger row (to link a picture to it).
   * @throws MissingApiKeyError, ProviderTimeoutError, ProviderError (HTTP status after retries),
   *   PromptBlockedError (`promptFeedback.blockReason`), MalformedReplyError.
   */
  async generate(params: GenerateContentParameters, options: GenerateOptions): Promise<GeneratedReply> {
    const ai = await this.ai();
    const budgetMs = this.config.gemini.total_timeout_ms;
    const timeout = AbortSignal.timeout(budgetMs);
    const abortSignal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let response: GenerateContentResponse;
    const started = performance.now();
    try {
      response = await this.rateLimited(
        () => ai.models.generateContent({ ...params, config: { ...params.config, abortSignal } }),
        started + budgetMs,
        abortSignal,
      );
      this.observe?.(params.model, (performance.now() - started) / 1000, 'ok');
    } catch (err) {
      const mapped = this.mapError(err, timeout.aborted, budgetMs, STEP_OF[options.record.purpose]);
      this.observe?.(params.model, (performance.now() - started) / 1000, mapped instanceof LimnerError ? mapped.code : 'error');
      throw mapped;
    }
    const estimate = estimateRequestTokens(params.contents, params.config?.systemInstruction);
    const usage = usageOf(params.model, response.usageMetadata, this.config.prices[params.model], estimate);
    const usageId = await this.usage.record(options.record.origin, options.record.purpose, usage);
    const blockReason = response.promptFeedback?.blockReason;
    if (blockReason) throw new PromptBlockedError(blockReason);
    const candidate = response.candidates?.[0];
    if (!candidate) throw new MalformedReplyError('reply has neither candidates nor promptFeedback.blockReason');
    return { response, candidate, usage, usageId };
  }

  /**
   * `call` with the rate limit's retries ({@link withRateLimitRetries}): as many calls as
   * `gemini.retry.attempts`, waiting what each 429 asks, else the configured backoff.
   * @param deadline - `performance.now()` time (ms) at which the call's total budget ends.
   */
  private rateLimited<T>(call: () => Promise<T>, deadline: number, signal: AbortSignal): Promise<T> {
    const { retry } = this.config.gemini;
    return withRateLimitRetries(call, {
      attempts: retry.attempts,
      deadline,
      signal,
      backoffMs: (attempt) => Math.min(retry.initial_delay_s * 2 ** (attempt - 1), retry.max_delay_s) * 1000,
    });
  }

  private mapError(err: unknown, timedOut: boolean, budgetMs: number, step: ModelStep): LimnerError | unknown {
    if (err instanceof LimnerError) return err;
    if (timedOut) return new ProviderTimeoutError(budgetMs, { cause: err, step });
    if (this.sdk && err instanceof this.sdk.ApiError) {
      const retryAfterMs = err.status === 429 ? retryDelayMs(err) : undefined;
      return new ProviderError(err.status, { cause: err, step, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    }
    if (err instanceof SyntaxError) return new MalformedReplyError(`reply is not JSON: ${err.message}`, { cause: err });
    const name = (err as { name?: string } | null)?.name;
    // An attempt that ran past httpOptions.timeout on its last try surfaces as an abort.
    if (name === 'AbortError' || name === 'TimeoutError') return new ProviderTimeoutError(budgetMs, { cause: err, step });
    // undici's fetch fails with a TypeError when the connection does.
    if (err instanceof TypeError) return new ProviderError(undefined, { cause: err, step });
    return err;
  }
}

/**
 * The text of a candidate's non-thought parts, trimmed. Text cut short by the output limit
 * (`MAX_TOKENS`) is returned with a warning: a shortened description still paints, and callers
 * that parse the text refuse what no longer parses.
 * @throws ReplyCutOffError when the output limit (thinking tokens included) ended the reply before
 *   any text; PromptBlockedError when it ended for a safety reason without text; MalformedReplyError
 *   when it has no text.
 */
export function candidateText(candidate: Candidate, log: Logger): string {
  const text = (candidate.content?.parts ?? [])
    .filter((p) => typeof p.text === 'string' && !p.thought)
    .map((p) => p.text)
    .join('')
    .trim();
  const reason = candidate.finishReason;
  if (text) {
    if (reason === 'MAX_TOKENS') log.warn({ chars: text.length }, 'model reply cut at the output token limit');
    return text;
  }
  if (reason === 'MAX_TOKENS') throw new ReplyCutOffError();
  if (reason && reason !== 'STOP') throw new PromptBlockedError(reason);
  throw new MalformedReplyError(`text model answered without text (finishReason ${reason ?? 'none'})`);
}

/**
 * The first image part (`inlineData` with an `image/*` MIME type) of a candidate.
 * @throws NonImagePartError naming the MIME type when the candidate carries data of another kind
 *   and no image; NoImageError with the candidate's finishReason (SAFETY, IMAGE_SAFETY,
 *   PROHIBITED_CONTENT, NO_IMAGE, ...), or `NO_IMAGE_PART` when it ended normally with text only.
 */
export function candidateImage(candidate: Candidate): ModelImage {
  let other: string | undefined;
  for (const part of candidate.content?.parts ?? []) {
    const mimeType = part.inlineData?.mimeType;
    const base64 = mimeType?.startsWith('image/') && !part.thought ? part.inlineData?.data : undefined;
    if (mimeType && base64) return { mimeType, data: Buffer.from(base64, 'base64') };
    if (mimeType && !mimeType.startsWith('image/') && !part.thought) other ??= mimeType;
  }
  if (other) throw new NonImagePartError(other);
  const reason = candidate.finishReason;
  throw new NoImageError(!reason || reason === 'STOP' ? 'NO_IMAGE_PART' : reason);
}

/**
 * Reads `usageMetadata` and prices it: input tokens at `input_per_million`, image output tokens
 * at `image_output_per_million`, other output (text and thoughts) at `output_per_million` (USD).
 */
export function usageOf(
  model: string,
  meta: GenerateContentResponseUsageMetadata | undefined,
  price: ModelPrice | undefined,
  estimatedInputTokens = 0,
): CallUsage {
  const inputTokens = meta?.promptTokenCount ?? 0;
  const outputTokens = (meta?.candidatesTokenCount ?? 0) + (meta?.thoughtsTokenCount ?? 0);
  const imageTokens = (meta?.candidatesTokensDetails ?? [])
    .filter((d) => d.modality === 'IMAGE')
    .reduce((sum, d) => sum + (d.tokenCount ?? 0), 0);
  const costUsd = price
    ? (inputTokens * price.input_per_million +
        (outputTokens - imageTokens) * price.output_per_million +
        imageTokens * price.image_output_per_million) /
      1_000_000
    : 0;
  return { model, inputTokens, outputTokens, imageTokens, costUsd, estimatedInputTokens };
}
