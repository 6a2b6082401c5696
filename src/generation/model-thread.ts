import { Worker } from 'node:worker_threads';
import { workerNice } from '../thread-priority.js';
import type { GenerateContentParameters, GenerateContentResponse, GoogleGenAIOptions, Part } from '@google/genai';

/** A request to the model thread: one `models.generateContent` call, or the abort of one. */
export type ModelThreadRequest =
  | { readonly type: 'call'; readonly id: number; readonly params: GenerateContentParameters }
  | { readonly type: 'abort'; readonly id: number };

/**
 * The model thread's answer to one call. Inline data (pictures) is decoded from base64 on the
 * worker and moved, not copied: each `inlineData.data` is emptied and its bytes are in `inline`,
 * by candidate and part index.
 */
export type ModelThreadReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly response: GenerateContentResponse;
      readonly inline: ReadonlyArray<{ readonly candidate: number; readonly part: number; readonly bytes: Uint8Array }>;
    }
  | { readonly id: number; readonly ok: false; readonly error: ThreadError };

/** Bytes of the parts whose `inlineData.data` the model thread moved out (see {@link ModelThreadReply}). */
const movedBytes = new WeakMap<Part, Buffer>();

/**
 * The bytes of a reply part's `inlineData`: those the model thread decoded, or else `data`'s base64
 * decoded here. Undefined when the part has no inline data.
 */
export function inlineBytes(part: Part): Buffer | undefined {
  const moved = movedBytes.get(part);
  if (moved) return moved;
  return part.inlineData?.data ? Buffer.from(part.inlineData.data, 'base64') : undefined;
}

/** An error as it crosses threads: classes do not survive `postMessage`, so the fields that matter do. */
export interface ThreadError {
  readonly name: string;
  readonly message: string;
  /** HTTP status of an SDK `ApiError`. */
  readonly status?: number;
}

/**
 * `models.generateContent` run by `@google/genai` on a worker thread. A picture comes back as about
 * 2.5 MB (1K) to 10 MB (2K) of JSON; reading, parsing and decoding it on the bot's thread stalls
 * every other interaction for several milliseconds per picture, and its large strings bring on
 * full garbage collections (BENCHMARKS.md, figures 1 and 3). On the worker the SDK does its retries
 * and attempt timeouts as usual; this thread receives the parsed reply, with each picture's bytes
 * moved across ({@link inlineBytes}).
 * The worker starts on the first call, so a process that never calls a model never loads the SDK.
 *
 * What crosses is plain data: the reply loses the SDK class's getters (`text`, `data`), and an error
 * arrives as an `Error` with the original `name`, `message` and (`ApiError`) `status`.
 */
export class ModelThread {
  private static readonly threads = new Map<string, ModelThread>();

  /**
   * The process's thread for these client options, started on its first call. One is enough: the
   * worker only waits on the network, and each costs a V8 isolate and a copy of the SDK. An idle
   * worker does not keep the process alive.
   */
  static for(options: GoogleGenAIOptions): ModelThread {
    const key = JSON.stringify(options);
    let thread = ModelThread.threads.get(key);
    if (!thread) ModelThread.threads.set(key, (thread = new ModelThread(options)));
    return thread;
  }

  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { readonly worker: Worker; resolve: (r: GenerateContentResponse) => void; reject: (e: Error) => void }
  >();

  /** @param options - The SDK client's options (API key, version, `httpOptions`): plain data, cloned to the worker. */
  private constructor(private readonly options: GoogleGenAIOptions) {}

  /**
   * Calls `models.generateContent` on the worker.
   * @param params - The call without `config.abortSignal`, which cannot cross threads: pass `signal`.
   * @throws what the SDK threw, as described on the class; an `Error` named `WorkerError` when the
   *   worker died during the call.
   */
  generateContent(params: GenerateContentParameters, signal?: AbortSignal): Promise<GenerateContentResponse> {
    signal?.throwIfAborted();
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<GenerateContentResponse>((resolve, reject) => {
      const onAbort = () => worker.postMessage({ type: 'abort', id } satisfies ModelThreadRequest);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        if (this.pending.size === 0) worker.unref();
      };
      this.pending.set(id, {
        worker,
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
      });
      worker.ref();
      worker.postMessage({ type: 'call', id, params } satisfies ModelThreadRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // The worker is plain JavaScript: it needs none of this thread's loaders or preloads (tsx, a
    // TypeScript diagnostics preload), which could not even load there.
    const worker = new Worker(new URL('./model-worker.js', import.meta.url), {
      workerData: { options: this.options, nice: workerNice() },
      execArgv: [],
    });
    worker.on('message', (reply: ModelThreadReply) => {
      const call = this.pending.get(reply.id);
      if (!call) return;
      if (reply.ok) {
        for (const { candidate, part, bytes } of reply.inline) {
          const target = reply.response.candidates?.[candidate]?.content?.parts?.[part];
          if (target) movedBytes.set(target, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        }
        call.resolve(reply.response);
      } else call.reject(Object.assign(new Error(reply.error.message), reply.error));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const call of [...this.pending.values()].filter((c) => c.worker === worker))
        call.reject(Object.assign(new Error(`model thread stopped: ${err.message}`), { name: 'WorkerError' }));
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
