// The worker of ModelThread (model-thread.ts): runs @google/genai and answers each call with the
// parsed reply, or the error's name, message and status. Plain JavaScript (checked by tsc through
// JSDoc) so the worker starts without a TypeScript loader, from the sources as from dist/.
import { parentPort, workerData } from 'node:worker_threads';
import { GoogleGenAI } from '@google/genai';
import { lowerThreadPriority } from '../thread-priority.js';

/** @typedef {import('./model-thread.ts').ModelThreadRequest} ModelThreadRequest */
/** @typedef {import('./model-thread.ts').ModelThreadReply} ModelThreadReply */

/** @type {{ options: import('@google/genai').GoogleGenAIOptions; nice: number }} */
const { options, nice } = workerData;
lowerThreadPriority(nice);

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const ai = new GoogleGenAI(options);
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
      (response) => {
        // Pictures are decoded here and their memory moved to the bot's thread, not copied. (Not
        // shared: a SharedArrayBuffer's memory does not count toward V8's collections, so a
        // collection-free stretch kept hundreds of MB of finished pictures; BENCHMARKS.md.)
        /** @type {Array<{ candidate: number; part: number; bytes: Uint8Array }>} */
        const inline = [];
        for (const [c, candidate] of (response.candidates ?? []).entries()) {
          for (const [p, part] of (candidate.content?.parts ?? []).entries()) {
            const inlineData = part.inlineData;
            if (!inlineData?.data) continue;
            const decoded = Buffer.from(inlineData.data, 'base64');
            // Small buffers share Node's pool: only memory of their own may be moved.
            const own = decoded.byteOffset === 0 && decoded.byteLength === decoded.buffer.byteLength;
            inline.push({ candidate: c, part: p, bytes: own ? decoded : new Uint8Array(decoded) });
            inlineData.data = '';
          }
        }
        return /** @type {ModelThreadReply} */ ({ id: request.id, ok: true, response, inline });
      },
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
      const moved = reply.ok ? reply.inline.map((i) => /** @type {ArrayBuffer} */ (i.bytes.buffer)) : [];
      port.postMessage(reply, moved);
    });
});
