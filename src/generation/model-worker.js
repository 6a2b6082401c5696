// The worker of ModelThread (model-thread.ts): runs @google/genai and answers each call with the
// parsed reply, or the error's name, message and status. Plain JavaScript (checked by tsc through
// JSDoc) so the worker starts without a TypeScript loader, from the sources as from dist/.
import { parentPort, workerData } from 'node:worker_threads';
import { GoogleGenAI } from '@google/genai';

/** @typedef {import('./model-thread.ts').ModelThreadRequest} ModelThreadRequest */
/** @typedef {import('./model-thread.ts').ModelThreadReply} ModelThreadReply */

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const ai = new GoogleGenAI(/** @type {import('@google/genai').GoogleGenAIOptions} */ (workerData));
/** @type {Map<number, AbortController>} */
const calls = new Map();

port.on('message', (/** @type {ModelThreadRequest} */ request) => {
  if (request.type === 'abort') {
    calls.get(request.id)?.abort();
    return;
  }
  const abort = new AbortController();
  calls.set(request.id, abort);
  const { params } = request;
  ai.models
    .generateContent({ ...params, config: { ...params.config, abortSignal: abort.signal } })
    .then(
      (response) => /** @type {ModelThreadReply} */ ({ id: request.id, ok: true, response }),
      (/** @type {any} */ err) =>
        /** @type {ModelThreadReply} */ ({
          id: request.id,
          ok: false,
          error: {
            name: typeof err?.name === 'string' ? err.name : 'Error',
            message: typeof err?.message === 'string' ? err.message : String(err),
            ...(typeof err?.status === 'number' ? { status: err.status } : {}),
          },
        }),
    )
    .then((reply) => {
      calls.delete(request.id);
      port.postMessage(reply);
    });
});
