// The worker of UploadThread (upload-thread.ts): sends interaction webhook requests that carry
// files with @discordjs/rest and answers each with Discord's JSON, or the error's fields. Plain
// JavaScript (checked by tsc through JSDoc) so the worker starts without a TypeScript loader, from
// the sources as from dist/.
import { parentPort, workerData } from 'node:worker_threads';
import { DiscordAPIError, HTTPError, REST } from '@discordjs/rest';
import { lowerThreadPriority } from '../../src/thread-priority.js';

/** @typedef {import('./upload-thread.ts').UploadRequest} UploadRequest */
/** @typedef {import('./upload-thread.ts').UploadReply} UploadReply */

/** @type {{ options: import('@discordjs/rest').RESTOptions; nice: number }} */
const { options, nice } = workerData;
lowerThreadPriority(nice);

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
// No token: interaction webhooks are authorised by the token in their route.
const rest = new REST(options);
rest.on('rateLimited', (info) =>
  port.postMessage(/** @type {import('./upload-thread.ts').UploadRateLimited} */ ({ type: 'rateLimited', global: info.global })),
);

port.on('message', (/** @type {UploadRequest} */ request) => {
  const { id, route, body, files } = request;
  const files$ = files.map((f) => ({
    name: f.name,
    data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
    ...(f.contentType ? { contentType: f.contentType } : {}),
  }));
  rest.patch(/** @type {`/${string}`} */ (route), { body, files: files$, auth: false }).then(
    (message) => port.postMessage(/** @type {UploadReply} */ ({ id, ok: true, message })),
    (/** @type {any} */ err) =>
      port.postMessage(
        /** @type {UploadReply} */ ({
          id,
          ok: false,
          error: {
            name: typeof err?.name === 'string' ? err.name : 'Error',
            message: typeof err?.message === 'string' ? err.message : String(err),
            ...(err instanceof DiscordAPIError
              ? { discord: { rawError: err.rawError, code: err.code, status: err.status, method: err.method, url: err.url } }
              : {}),
            ...(err instanceof HTTPError ? { status: err.status } : {}),
          },
        }),
      ),
  );
});
