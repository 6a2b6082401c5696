/**
 * Optional preload for the bot child (bench/bot.ts adds it with `LIMNER_BENCH_TRACE=1`): records
 * when each outgoing HTTP request of the bot (discord.js REST through undici, the Gemini SDK
 * through fetch) is created, has sent its body, gets its response headers and its whole response,
 * from undici's diagnostics channels, and writes them as JSON lines to `$LIMNER_BENCH_TRACE_FILE` at
 * exit. Times are epoch ms (`performance.timeOrigin + now()`), comparable with the bench's.
 * Observation only: nothing the bot does is changed. Plain JavaScript, so the bot needs no loader
 * (tsx would add its own thread and ~40 MB).
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';

/** @typedef {{ method: string; origin: string; path: string; created: number; bodySent?: number; headers?: number; done?: number }} Entry */

const now = () => performance.timeOrigin + performance.now();
/** @type {WeakMap<object, Entry>} */
const entries = new WeakMap();
/** @type {Entry[]} */
const all = [];
const file = process.env.LIMNER_BENCH_TRACE_FILE;

subscribe('undici:request:create', (m) => {
  const { request } = /** @type {{ request: { method: string; origin: string; path: string } }} */ (m);
  /** @type {Entry} */
  const entry = { method: request.method, origin: String(request.origin), path: request.path, created: now() };
  entries.set(request, entry);
  all.push(entry);
});
/** @type {Array<[string, 'bodySent' | 'headers' | 'done']>} */
const moments = [
  ['undici:request:bodySent', 'bodySent'],
  ['undici:request:headers', 'headers'],
  ['undici:request:trailers', 'done'],
];
for (const [channel, key] of moments) {
  subscribe(channel, (m) => {
    const entry = entries.get(/** @type {{ request: object }} */ (m).request);
    if (entry) entry[key] = now();
  });
}

if (file) process.on('exit', () => writeFileSync(file, all.map((e) => JSON.stringify(e)).join('\n')));
