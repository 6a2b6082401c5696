/**
 * A loopback emulator of the Gemini Developer API (Google's generative language REST service) that speaks
 * the REST wire protocol, so the unmodified `@google/genai` SDK can be pointed at it with
 * `httpOptions: { baseUrl: emulator.url }`. Tests script failures (429, hangs, safety blocks,
 * broken JSON) that are impossible to provoke reliably against the real service.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { closestAspectRatio, imageDimensions, imageOutputTokens, renderPlaceholderPng } from './image.ts';
import { allContentText, describeScene, inputImageParts, lastUserText, promptTextChars, proposeCast } from './text.ts';

/** One request that reached a model route (`/{version}/models/{model}:{rpc}`), as received. */
export interface RecordedRequest {
  /** Model id without the `models/` prefix, e.g. 'gemini-3-pro-image-preview'. */
  model: string;
  /** Path segment before `models/`, e.g. 'v1beta'. */
  apiVersion: string;
  /** RPC after the colon: 'generateContent', 'streamGenerateContent' or 'countTokens'. */
  rpc: string;
  /** HTTP method, e.g. 'POST'. */
  method: string;
  /** URL path without the query string. */
  path: string;
  /** Lower-cased header names; repeated headers are joined with ', '. */
  headers: Record<string, string | undefined>;
  /** Parsed JSON request (contents, generationConfig, systemInstruction ...); undefined when it was not valid JSON. */
  body: any;
  /** Epoch milliseconds when the request headers arrived. */
  receivedAt: number;
  /** How the emulator answered, e.g. 'text', 'image 1376x768', 'status 429', 'hang'; set once answered. */
  answer?: string;
  /**
   * Epoch milliseconds when a generate request stopped being in flight (its answer sent, or its
   * connection gone): with {@link receivedAt}, the interval it counted in {@link GeminiEmulator.generating}.
   */
  endedAt?: number;
}

/** A scripted answer for one request; see {@link GeminiEmulator.enqueue}. */
export type Behaviour =
  /** Waits `ms` milliseconds (instead of the global latency), then answers as by default. */
  | { kind: 'latency'; ms: number }
  /** Google-style error JSON `{error:{code,message,status}}`; `Retry-After` (seconds) header and RetryInfo detail when given. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number; message?: string }
  /** Never answers, until the client aborts or the emulator closes. */
  | { kind: 'hang' }
  /** 200 with `promptFeedback.blockReason` (default 'SAFETY') and no candidates. */
  | { kind: 'blocked'; blockReason?: string }
  /** 200 with one candidate without content and this finishReason (SAFETY, IMAGE_SAFETY, PROHIBITED_CONTENT, NO_IMAGE ...). */
  | { kind: 'finish'; finishReason: string; finishMessage?: string }
  /**
   * 200 with a single text part; for image models this is the "text only, no image" answer.
   * `finishReason` defaults to STOP; MAX_TOKENS gives a reply cut at the output limit.
   */
  | { kind: 'text'; text: string; finishReason?: string }
  /** 200 with content-type application/json whose body is not valid JSON. */
  | { kind: 'malformed' }
  /** 200 with this image as inlineData (mimeType defaults to 'image/png'). */
  | { kind: 'image'; png: Buffer; mimeType?: string };

/** Which requests a queued behaviour applies to; all given conditions must hold. */
export interface BehaviourMatch {
  /** Exact model id (with or without 'models/') or a RegExp tested against the bare model id. */
  model?: string | RegExp;
  /** Arbitrary predicate on the recorded request. */
  when?: (r: RecordedRequest) => boolean;
}

/** One line of the request log, emitted after each answer (or when a hung request ends). */
export interface AnswerLog {
  method: string;
  path: string;
  /** Bare model id, when the path named one. */
  model?: string;
  /** HTTP status sent; 0 when the connection ended without an answer (hang, client abort). */
  status: number;
  /** Same wording as {@link RecordedRequest.answer}. */
  answer: string;
  /** Wall time from request arrival to answer, in milliseconds. */
  ms: number;
}

/** Options for {@link GeminiEmulator.start}. */
export interface GeminiEmulatorOptions {
  /** TCP port; 0 (default) picks an ephemeral one. */
  port?: number;
  /** Interface to bind; default '127.0.0.1'. */
  host?: string;
  /** Delay before every answer, in milliseconds; default 0. */
  latencyMs?: number;
  /** Default true: a request without an API key gets 403 PERMISSION_DENIED, as from Google. */
  requireApiKey?: boolean;
  /** When set, any other non-empty key gets 400 INVALID_ARGUMENT with reason API_KEY_INVALID. */
  apiKey?: string;
  /** Called once per answered request; the CLI uses it for its log lines. */
  onLog?: (entry: AnswerLog) => void;
}

interface QueuedBehaviour {
  behaviour: Behaviour;
  match: BehaviourMatch | undefined;
}

/** The pieces of a generateContent answer; serialised as JSON, an SSE event or a JSON array. */
interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** Log wording. */
  label: string;
}

const MODEL_ROUTE = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/;
const GENERATE_RPCS = new Set(['generateContent', 'streamGenerateContent']);

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

// Wording copied from what the live API returns, so log-based debugging looks familiar.
const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  400: 'Request contains an invalid argument.',
  403: 'The caller does not have permission',
  404: 'Requested entity was not found.',
  429: 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

/** Input image tokens: Gemini 3 Pro Image bills 560 per input image, text models about 258. */
const IMAGE_MODEL_INPUT_IMAGE_TOKENS = 560;
const TEXT_MODEL_INPUT_IMAGE_TOKENS = 258;

/** Google-style error envelope. */
function errorBody(status: number, message?: string, details?: unknown[]): string {
  const error: Record<string, unknown> = {
    code: status,
    message: message ?? DEFAULT_MESSAGES[status] ?? `HTTP ${status}`,
    status: STATUS_NAMES[status] ?? 'UNKNOWN',
  };
  if (details && details.length > 0) error.details = details;
  return JSON.stringify({ error }, null, 2);
}

function errorAnswer(status: number, message?: string, details?: unknown[]): Answer {
  return {
    status,
    body: errorBody(status, message, details),
    label: `status ${status} ${STATUS_NAMES[status] ?? 'UNKNOWN'}`,
  };
}

function ok(payload: unknown, label: string): Answer {
  return { status: 200, body: JSON.stringify(payload), label };
}

/** Real response ids are short url-safe strings; uniqueness is all that matters here. */
function responseId(): string {
  return randomBytes(16).toString('base64url').slice(0, 22);
}

/** True when the request asks for image output or names an image model ('...-image...'). */
export function isImageRequest(model: string, body: unknown): boolean {
  if (model.includes('-image')) return true;
  const modalities = (body as { generationConfig?: { responseModalities?: unknown } } | undefined)?.generationConfig?.responseModalities;
  return Array.isArray(modalities) && modalities.some((m) => typeof m === 'string' && m.toUpperCase() === 'IMAGE');
}

function bareModel(model: string): string {
  return model.startsWith('models/') ? model.slice('models/'.length) : model;
}

/**
 * Gemini API emulator on a loopback HTTP server. Start with {@link GeminiEmulator.start}, point
 * `new GoogleGenAI({ apiKey, httpOptions: { baseUrl: emulator.url } })` at it, and script answers
 * with {@link GeminiEmulator.enqueue} / {@link GeminiEmulator.onText}.
 *
 * Routes: `POST /{v1|v1beta|v1alpha}/models/{model}:generateContent`, `:streamGenerateContent`
 * (SSE with `?alt=sse`, else a JSON array) and `:countTokens`; anything else is 404.
 */
export class GeminiEmulator {
  /** Base URL without trailing slash, e.g. 'http://127.0.0.1:41234'. */
  readonly url: string;
  /** Every request that reached a model route, oldest first (including rejected ones). */
  readonly requests: RecordedRequest[] = [];
  /** Generate requests received and not yet answered (or ended), now. */
  generating = 0;
  /** The most generate requests in flight at once since start or {@link reset}. */
  peakGenerating = 0;

  private readonly server: Server;
  private readonly options: GeminiEmulatorOptions;
  private readonly queue: QueuedBehaviour[] = [];
  private textScript: ((r: RecordedRequest) => string | undefined) | undefined;
  private latencyMs: number;
  private held: Promise<void> | undefined;
  /** Cancels pending delays so `close()` never waits on a timer. */
  private readonly cancellers = new Set<() => void>();
  private closing: Promise<void> | undefined;

  private constructor(server: Server, url: string, options: GeminiEmulatorOptions) {
    this.server = server;
    this.url = url;
    this.options = options;
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** Binds the server (default 127.0.0.1, ephemeral port) and resolves once it is listening. */
  static async start(opts: GeminiEmulatorOptions = {}): Promise<GeminiEmulator> {
    const host = opts.host ?? '127.0.0.1';
    let emulator: GeminiEmulator | undefined;
    const server = createServer((req, res) => {
      // Requests cannot arrive before listen() resolves, so the emulator exists by now.
      void emulator?.handle(req, res);
    });
    // Node's default 5-minute request timeout would answer a deliberate 'hang' with 408 in long manual runs.
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    emulator = new GeminiEmulator(server, `http://${urlHost}:${port}`, opts);
    return emulator;
  }

  /**
   * Queues a one-shot behaviour. Each generate request takes the first queued behaviour whose
   * `match` accepts it (all queued ones are skipped for countTokens); unmatched requests get the
   * default answer.
   */
  enqueue(behaviour: Behaviour, match?: BehaviourMatch): this {
    this.queue.push({ behaviour, match });
    return this;
  }

  /** Number of queued behaviours not yet consumed. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Scripts text-model answers: `fn` runs for each text-model generate request that no queued
   * behaviour matched; a string becomes the answer text, undefined keeps the default. Pass
   * undefined to remove the script. A throwing script yields a 500 whose message is the error's.
   */
  onText(fn: ((r: RecordedRequest) => string | undefined) | undefined): this {
    this.textScript = fn;
    return this;
  }

  /**
   * Holds every generate request's answer, received or to come, until the returned `release` is
   * called (then each waits its latency as usual): a test can let work pile up before any finishes.
   */
  hold(): () => void {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    this.held = held;
    return () => {
      if (this.held === held) this.held = undefined;
      release();
    };
  }

  /** Delay before every answer from now on, in milliseconds. */
  setLatency(ms: number): this {
    this.latencyMs = ms;
    return this;
  }

  /** Clears queued behaviours, recorded requests, the text script and the peak of requests in flight, and restores the start latency. */
  reset(): void {
    this.queue.length = 0;
    this.requests.length = 0;
    this.textScript = undefined;
    this.latencyMs = this.options.latencyMs ?? 0;
    this.peakGenerating = this.generating;
  }

  /** Stops listening, drops every connection (keep-alive and hanging ones) and resolves when closed. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const cancel of [...this.cancellers]) cancel();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const receivedAt = Date.now();
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const method = req.method ?? 'GET';
    const log = (status: number, answer: string, model?: string): void => {
      this.options.onLog?.({
        method,
        path: url.pathname,
        ...(model !== undefined ? { model } : {}),
        status,
        answer,
        ms: Math.round(performance.now() - started),
      });
    };

    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch {
      log(0, 'client aborted while sending');
      return;
    }

    const route = MODEL_ROUTE.exec(url.pathname);
    const rpc = route?.[3] ?? '';
    if (!route || method !== 'POST' || !(GENERATE_RPCS.has(rpc) || rpc === 'countTokens')) {
      const answer = errorAnswer(404, route ? 'Method not found.' : `The requested URL ${url.pathname} was not found on this server.`);
      this.send(res, answer);
      log(answer.status, answer.label);
      return;
    }

    const model = bareModel(decodeURIComponent(route[2] ?? ''));
    let body: unknown;
    let parseError: string | undefined;
    try {
      body = JSON.parse(raw.toString('utf8'));
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        parseError = 'Invalid JSON payload received. Expected an object.';
        body = undefined;
      }
    } catch (error) {
      parseError = `Invalid JSON payload received. ${(error as Error).message}`;
    }
    const record: RecordedRequest = {
      model,
      apiVersion: route[1] ?? '',
      rpc,
      method,
      path: url.pathname,
      headers: flattenHeaders(req),
      body,
      receivedAt,
    };
    this.requests.push(record);
    if (GENERATE_RPCS.has(rpc)) {
      this.peakGenerating = Math.max(this.peakGenerating, ++this.generating);
      res.once('close', () => {
        this.generating--;
        record.endedAt = Date.now();
      });
    }
    const finish = (answer: Answer): void => {
      record.answer = answer.label;
      this.send(res, answer, rpc === 'streamGenerateContent' ? (url.searchParams.get('alt') ?? 'json') : undefined);
      log(answer.status, answer.label, model);
    };

    try {
      const rejection = this.validate(record, url, parseError);
      if (rejection) return finish(rejection);

      if (rpc === 'countTokens') {
        const tokens = this.estimatePromptTokens(record);
        return finish(ok({ totalTokens: tokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: tokens }] }, 'countTokens'));
      }

      const queued = this.takeQueued(record);
      if (queued?.kind === 'hang') {
        record.answer = 'hang';
        res.once('close', () => log(0, 'hang ended'));
        return;
      }
      const delay = queued?.kind === 'latency' ? queued.ms : this.latencyMs;
      if (this.held) await this.held;
      if (!(await this.delay(delay, res))) {
        log(0, 'client gone before answer', model);
        return;
      }
      const answer = queued && queued.kind !== 'latency' ? this.scriptedAnswer(record, queued) : await this.defaultAnswer(record);
      if (res.destroyed) {
        log(0, 'client gone before answer', model);
        return;
      }
      finish(answer);
    } catch (error) {
      finish(errorAnswer(500, (error as Error).message));
    }
  }

  /** The checks Google makes before the model runs, in the same order: key, payload, model. */
  private validate(record: RecordedRequest, url: URL, parseError: string | undefined): Answer | undefined {
    const key = record.headers['x-goog-api-key'] || url.searchParams.get('key') || '';
    if (key === '' && (this.options.requireApiKey ?? true)) {
      return errorAnswer(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    if (key !== '' && this.options.apiKey !== undefined && key !== this.options.apiKey) {
      return errorAnswer(400, 'API key not valid. Please pass a valid API key.', [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
        },
      ]);
    }
    if (parseError !== undefined) return errorAnswer(400, parseError);
    if (record.model.startsWith('imagen')) {
      return errorAnswer(
        404,
        `models/${record.model} is not found for API version ${record.apiVersion}, or is not supported for ${record.rpc}. Call ListModels to see the list of available models and their supported methods.`,
      );
    }
    const contents = record.body?.contents;
    if (!Array.isArray(contents) || contents.length === 0) {
      return errorAnswer(400, '* GenerateContentRequest.contents: contents is not specified\n');
    }
    return undefined;
  }

  private takeQueued(record: RecordedRequest): Behaviour | undefined {
    if (!GENERATE_RPCS.has(record.rpc)) return undefined;
    const index = this.queue.findIndex(({ match }) => matches(match, record));
    if (index < 0) return undefined;
    const [entry] = this.queue.splice(index, 1);
    return entry?.behaviour;
  }

  /** Resolves true after `ms`, or false as soon as the client or the emulator goes away. */
  private delay(ms: number, res: ServerResponse): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(!res.destroyed);
    return new Promise<boolean>((resolve) => {
      const settle = (completed: boolean): void => {
        clearTimeout(timer);
        res.off('close', onClose);
        this.cancellers.delete(onClose);
        resolve(completed);
      };
      const onClose = (): void => settle(false);
      const timer = setTimeout(() => settle(true), ms);
      res.once('close', onClose);
      this.cancellers.add(onClose);
    });
  }

  private scriptedAnswer(record: RecordedRequest, b: Exclude<Behaviour, { kind: 'latency' | 'hang' }>): Answer {
    const promptTokenCount = this.estimatePromptTokens(record);
    const envelope = { modelVersion: record.model, responseId: responseId() };
    switch (b.kind) {
      case 'status': {
        const details =
          b.retryAfterSeconds !== undefined
            ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${b.retryAfterSeconds}s` }]
            : undefined;
        const answer = errorAnswer(b.status, b.message, details);
        if (b.retryAfterSeconds !== undefined) answer.headers = { 'retry-after': String(b.retryAfterSeconds) };
        return answer;
      }
      case 'blocked': {
        const blockReason = b.blockReason ?? 'SAFETY';
        return ok(
          { promptFeedback: { blockReason }, usageMetadata: { promptTokenCount, totalTokenCount: promptTokenCount }, ...envelope },
          `blocked ${blockReason}`,
        );
      }
      case 'finish':
        return ok(
          {
            candidates: [{ finishReason: b.finishReason, ...(b.finishMessage ? { finishMessage: b.finishMessage } : {}), index: 0 }],
            usageMetadata: { promptTokenCount, totalTokenCount: promptTokenCount },
            ...envelope,
          },
          `finish ${b.finishReason}`,
        );
      case 'text':
        return ok(this.textPayload(record, b.text, promptTokenCount, b.finishReason), 'text (queued)');
      case 'malformed':
        return { status: 200, body: '{"candidates": [{"content": {"parts": [{"text": "trunc', label: 'malformed' };
      case 'image': {
        const mimeType = b.mimeType ?? 'image/png';
        const tokens = imageOutputTokens('1K');
        return ok(
          {
            candidates: [
              {
                content: { role: 'model', parts: [{ inlineData: { mimeType, data: b.png.toString('base64') } }] },
                finishReason: 'STOP',
                index: 0,
              },
            ],
            usageMetadata: {
              promptTokenCount,
              candidatesTokenCount: tokens,
              totalTokenCount: promptTokenCount + tokens,
              candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: tokens }],
            },
            ...envelope,
          },
          `image (queued, ${b.png.length} bytes)`,
        );
      }
    }
  }

  private async defaultAnswer(record: RecordedRequest): Promise<Answer> {
    const promptTokenCount = this.estimatePromptTokens(record);
    if (isImageRequest(record.model, record.body)) return this.imageAnswer(record, promptTokenCount);
    const scripted = this.textScript?.(record);
    if (scripted !== undefined) return ok(this.textPayload(record, scripted, promptTokenCount), 'text (script)');
    const wantsJson = record.body?.generationConfig?.responseMimeType === 'application/json';
    // A cast request (its schema lists `characters`) gets the passage's most named characters.
    if (wantsJson && record.body?.generationConfig?.responseJsonSchema?.properties?.characters) {
      return ok(this.textPayload(record, proposeCast(lastUserText(record.body)), promptTokenCount), 'json cast');
    }
    if (wantsJson) return ok(this.textPayload(record, '{}', promptTokenCount), 'json {}');
    return ok(this.textPayload(record, describeScene(lastUserText(record.body)), promptTokenCount), 'text');
  }

  private textPayload(record: RecordedRequest, text: string, promptTokenCount: number, finishReason = 'STOP'): unknown {
    const candidatesTokenCount = Math.max(1, Math.ceil(text.length / 4));
    return {
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason, index: 0 }],
      usageMetadata: {
        promptTokenCount,
        candidatesTokenCount,
        totalTokenCount: promptTokenCount + candidatesTokenCount,
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokenCount }],
      },
      modelVersion: record.model,
      responseId: responseId(),
    };
  }

  private async imageAnswer(record: RecordedRequest, promptTokenCount: number): Promise<Answer> {
    const generationConfig = record.body?.generationConfig ?? {};
    const imageConfig = generationConfig.imageConfig ?? {};
    const images = inputImageParts(record.body);
    let aspectRatio: unknown = imageConfig.aspectRatio;
    if (aspectRatio === undefined) aspectRatio = (await aspectOfFirstImage(images)) ?? '1:1';
    const imageSize: unknown = imageConfig.imageSize ?? '1K';
    const dims = imageDimensions(String(aspectRatio), String(imageSize));
    if (!dims) {
      return errorAnswer(
        400,
        `Unsupported image config: aspectRatio ${JSON.stringify(aspectRatio)}, imageSize ${JSON.stringify(imageSize)}. ` +
          'Supported aspect ratios: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9; image sizes: 1K, 2K, 4K.',
      );
    }
    const png = await renderPlaceholderPng({
      ...dims,
      seedText: `${allContentText(record.body)}\u0000${images.length}`,
      prompt: lastUserText(record.body),
      inputImages: images.length,
      footer: `gemini emulator · ${record.model} · ${String(aspectRatio)} ${String(imageSize)} · ${dims.width}x${dims.height}`,
    });
    const modalities: unknown = generationConfig.responseModalities;
    const wantsText = !Array.isArray(modalities) || modalities.some((m) => typeof m === 'string' && m.toUpperCase() === 'TEXT');
    const imageTokens = imageOutputTokens(String(imageSize));
    const caption = 'Here is your image.';
    const textTokens = wantsText ? Math.ceil(caption.length / 4) : 0;
    const parts: unknown[] = wantsText ? [{ text: caption }] : [];
    parts.push({ inlineData: { mimeType: 'image/png', data: png.toString('base64') } });
    const candidatesTokensDetails: unknown[] = [{ modality: 'IMAGE', tokenCount: imageTokens }];
    if (wantsText) candidatesTokensDetails.push({ modality: 'TEXT', tokenCount: textTokens });
    return ok(
      {
        candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
        usageMetadata: {
          promptTokenCount,
          candidatesTokenCount: imageTokens + textTokens,
          totalTokenCount: promptTokenCount + imageTokens + textTokens,
          candidatesTokensDetails,
        },
        modelVersion: record.model,
        responseId: responseId(),
      },
      `image ${dims.width}x${dims.height}${images.length > 0 ? ` (edit of ${images.length})` : ''}`,
    );
  }

  private estimatePromptTokens(record: RecordedRequest): number {
    const perImage = isImageRequest(record.model, record.body) ? IMAGE_MODEL_INPUT_IMAGE_TOKENS : TEXT_MODEL_INPUT_IMAGE_TOKENS;
    return Math.ceil(promptTextChars(record.body) / 4) + inputImageParts(record.body).length * perImage;
  }

  /** `stream` is the `alt` query value for streamGenerateContent ('sse' or 'json'), else undefined. */
  private send(res: ServerResponse, answer: Answer, stream?: string): void {
    if (res.destroyed || res.writableEnded) return;
    let body = answer.body;
    let contentType = 'application/json; charset=UTF-8';
    if (stream !== undefined && answer.status === 200) {
      if (stream === 'sse') {
        contentType = 'text/event-stream';
        body = `data: ${body}\r\n\r\n`;
      } else {
        body = `[${body}]`;
      }
    }
    res.writeHead(answer.status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      ...answer.headers,
    });
    res.end(body);
  }
}

function matches(match: BehaviourMatch | undefined, record: RecordedRequest): boolean {
  if (!match) return true;
  if (match.model !== undefined) {
    if (typeof match.model === 'string') {
      if (bareModel(match.model) !== record.model) return false;
    } else {
      // A /g or /y RegExp keeps lastIndex between calls, which would make matching order-dependent.
      match.model.lastIndex = 0;
      if (!match.model.test(record.model)) return false;
    }
  }
  return match.when ? match.when(record) : true;
}

function flattenHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('aborted')));
  });
}

async function aspectOfFirstImage(images: ReturnType<typeof inputImageParts>): Promise<string | undefined> {
  const data = images[0]?.inlineData?.data;
  if (typeof data !== 'string') return undefined;
  try {
    const { width, height } = await sharp(Buffer.from(data, 'base64')).metadata();
    return width && height ? closestAspectRatio(width, height) : undefined;
  } catch {
    // Tests often send a few placeholder bytes rather than a decodable image.
    return undefined;
  }
}
