import { Worker } from 'node:worker_threads';
import { workerNice } from '../../src/thread-priority.js';
import { DiscordAPIError, MessagePayload, Routes, type APIMessage, type RepliableInteraction, type RESTOptions } from 'discord.js';
import type { SceneMessage } from './scene-message.ts';

/** A request to the upload thread: one PATCH with files, to an interaction webhook route. */
export interface UploadRequest {
  readonly id: number;
  /** A route under the API, e.g. `/webhooks/{application}/{token}/messages/@original`. */
  readonly route: string;
  readonly body: unknown;
  readonly files: ReadonlyArray<{ readonly name: string; readonly data: Uint8Array; readonly contentType?: string }>;
}

/** The upload thread's answer: Discord's message, or the error's fields (classes do not cross threads). */
export type UploadReply =
  | { readonly id: number; readonly ok: true; readonly message: APIMessage }
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: {
        readonly name: string;
        readonly message: string;
        /** HTTP status of an `HTTPError` (a 5xx that outlived the retries). */
        readonly status?: number;
        /** The fields of a `DiscordAPIError`, rebuilt as one on this side. */
        readonly discord?: {
          readonly rawError: ConstructorParameters<typeof DiscordAPIError>[0];
          readonly code: number | string;
          readonly status: number;
          readonly method: string;
          readonly url: string;
        };
      };
    };

/** Told by the upload thread that its REST is waiting for a Discord rate limit (`RESTEvents.RateLimited`). */
export interface UploadRateLimited {
  readonly type: 'rateLimited';
  /** Discord's global limit, not a route's. */
  readonly global: boolean;
}

/**
 * Sends a finished picture's message (`editReply` with its PNG) from a worker thread of its own,
 * through `@discordjs/rest` as discord.js would. A 1-7 MB upload costs the bot's thread a copy into a
 * `Blob`, multipart encoding through web streams and the socket writes (on loopback, the receiving
 * side's kernel work too): 10-20 ms per picture in pieces, during which interactions wait to be
 * acknowledged (BENCHMARKS.md, figure 1). Interaction webhook routes are authorised by their token
 * and not bound to the bot's global rate limit (Discord, "Rate Limits"; their per-route limit is
 * handled by the worker's REST as by discord.js'), and the reply's progress edits are settled first.
 * The worker starts on the first upload; an idle one does not keep the process alive.
 */
export class UploadThread {
  private static readonly threads = new Map<string, UploadThread>();

  /** The process's thread for these REST options (API base, version, timeout, retries). */
  static for(options: Partial<RESTOptions>): UploadThread {
    const key = JSON.stringify(options);
    let thread = UploadThread.threads.get(key);
    if (!thread) UploadThread.threads.set(key, (thread = new UploadThread(options)));
    return thread;
  }

  private worker: Worker | undefined;
  private nextId = 1;
  private readonly rateLimitListeners = new Set<(info: UploadRateLimited) => void>();
  private readonly pending = new Map<number, { readonly worker: Worker; settle: (reply: UploadReply) => void }>();

  private constructor(private readonly options: Partial<RESTOptions>) {}

  /**
   * Calls `listener` each time the worker's REST waits for a Discord rate limit, as discord.js'
   * `rateLimited` event does.
   * @returns What stops the calls.
   */
  onRateLimited(listener: (info: UploadRateLimited) => void): () => void {
    this.rateLimitListeners.add(listener);
    return () => this.rateLimitListeners.delete(listener);
  }

  /**
   * `interaction.editReply(payload)` made on the upload thread: the same body and files discord.js
   * would send (its `MessagePayload`), the files copied to the worker.
   * @returns Discord's message (ids, as JSON).
   * @throws DiscordAPIError as `editReply` would; an `Error` with the original name otherwise
   *   (`HTTPError` with `status`, `AbortError`, `WorkerError` when the worker died).
   */
  async editReply(interaction: RepliableInteraction, payload: SceneMessage): Promise<APIMessage> {
    const { body, files } = await MessagePayload.create(interaction.webhook, payload).resolveBody().resolveFiles();
    const route = Routes.webhookMessage(interaction.webhook.id, interaction.token, '@original');
    const reply = await this.send({
      route,
      body,
      files: (files ?? []).map((f) => ({
        name: f.name,
        data: f.data as Uint8Array,
        ...(f.contentType ? { contentType: f.contentType } : {}),
      })),
    });
    if (reply.ok) return reply.message;
    const { discord, ...rest } = reply.error;
    if (discord)
      throw new DiscordAPIError(discord.rawError, discord.code, discord.status, discord.method, discord.url, {
        body,
        files: files ?? undefined,
      });
    throw Object.assign(new Error(rest.message), rest);
  }

  private send(request: Omit<UploadRequest, 'id'>): Promise<UploadReply> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<UploadReply>((resolve) => {
      this.pending.set(id, {
        worker,
        settle: (reply) => {
          this.pending.delete(id);
          if (this.pending.size === 0) worker.unref();
          resolve(reply);
        },
      });
      worker.ref();
      // Copied, not moved: a picture shared by a joined painting may still be shown by another reply.
      worker.postMessage({ ...request, id } satisfies UploadRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // Plain JavaScript: it needs none of this thread's loaders or preloads (see ModelThread).
    const worker = new Worker(new URL('./upload-worker.js', import.meta.url), {
      workerData: { options: this.options, nice: workerNice() },
      execArgv: [],
    });
    worker.on('message', (message: UploadReply | UploadRateLimited) => {
      if ('type' in message) for (const listener of this.rateLimitListeners) listener(message);
      else this.pending.get(message.id)?.settle(message);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, call] of [...this.pending].filter(([, c]) => c.worker === worker)) {
        call.settle({ id, ok: false, error: { name: 'WorkerError', message: `upload thread stopped: ${err.message}` } });
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
