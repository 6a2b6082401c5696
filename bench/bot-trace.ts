/**
 * Optional preload for the bot child (bench/bot.ts adds it with `LIMNER_BENCH_TRACE=1`): records
 * when each outgoing HTTP request of the bot (discord.js REST through undici, the Gemini SDK
 * through fetch) is created, has sent its body, gets its response headers and its whole response,
 * from undici's diagnostics channels, and writes them as JSON lines to `$LIMNER_BENCH_TRACE_FILE` at
 * exit. Times are epoch ms (`performance.timeOrigin + now()`), comparable with the bench's.
 * Observation only: nothing the bot does is changed.
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';

interface Entry {
  method: string;
  origin: string;
  path: string;
  created: number;
  bodySent?: number;
  headers?: number;
  done?: number;
}

const now = () => performance.timeOrigin + performance.now();
const entries = new WeakMap<object, Entry>();
const all: Entry[] = [];
const file = process.env.LIMNER_BENCH_TRACE_FILE;

subscribe('undici:request:create', (m) => {
  const { request } = m as { request: { method: string; origin: string; path: string } };
  const entry: Entry = { method: request.method, origin: String(request.origin), path: request.path, created: now() };
  entries.set(request, entry);
  all.push(entry);
});
for (const [channel, key] of [
  ['undici:request:bodySent', 'bodySent'],
  ['undici:request:headers', 'headers'],
  ['undici:request:trailers', 'done'],
] as const) {
  subscribe(channel, (m) => {
    const entry = entries.get((m as { request: object }).request);
    if (entry) entry[key] = now();
  });
}

if (file) process.on('exit', () => writeFileSync(file, all.map((e) => JSON.stringify(e)).join('\n')));
