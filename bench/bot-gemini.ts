/**
 * The Gemini emulator for bench/bot.ts, in a process of its own so that its work (JSON, PNG
 * rendering) is not the bot's or the bench's CPU time. Started by bench/bot.ts through `fork`;
 * argument 1 is the model latency in ms. It sends `{ url }` once listening and exits when the
 * parent disconnects. Messages from the parent (each answered with `{ ok: true }` or the timings):
 * - `{ type: 'latency', ms, jitter? }`: the delay before every answer from now on; with `jitter` j,
 *   each answer's delay is drawn uniformly from ms × [1 - j, 1 + j] (seeded);
 * - `{ type: 'images', mode }`: `render` answers image calls with the emulator's own placeholder
 *   PNG (rendered per request, about 130 KB at 1K), `photo` with a pre-rendered PNG of the requested
 *   size whose noise makes it as large as a real model's picture (about 1.9 MB at 1K, 7.3 MB at 2K);
 * - `{ type: 'take' }`: the per-request timings since the last take, then forgets them;
 * - `{ type: 'cpu' }`: this process's CPU time so far, seconds.
 *
 * Timings are epoch milliseconds with sub-millisecond precision (`performance.timeOrigin + now()`),
 * comparable with the parent's: `receivedAt` when the request's headers arrived, `answeredAt` when
 * the last byte of the answer was handed to the socket.
 */
import type { Server } from 'node:http';
import sharp from 'sharp';
import { imageDimensions } from '../test/emulators/gemini/image.ts';
import { GeminiEmulator, type Behaviour } from '../test/emulators/gemini/server.ts';

/** One model request as the emulator saw it. */
export interface GeminiTiming {
  /** `text` or `image`, from the model name in the path. */
  readonly kind: 'text' | 'image' | 'other';
  readonly receivedAt: number;
  readonly answeredAt: number;
  /** Bytes of the answer body. */
  readonly bytes: number;
}

export type GeminiCommand =
  { type: 'latency'; ms: number; jitter?: number } | { type: 'images'; mode: 'render' | 'photo' } | { type: 'take' } | { type: 'cpu' };

const epochNow = () => performance.timeOrigin + performance.now();

/** A PNG of `size` (16:9) that compresses like a painting: smooth gradients plus 2 bits of noise per channel. */
async function photoPng(size: string): Promise<Buffer> {
  const { width, height } = imageDimensions('16:9', size)!;
  const raw = Buffer.alloc(width * height * 3);
  let seed = 0x2545f491;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const i = (y * width + x) * 3;
      raw[i] = ((x * 160) / width + (seed & 3)) | 0;
      raw[i + 1] = ((y * 140) / height + ((seed >>> 4) & 3)) | 0;
      raw[i + 2] = (((x + y) * 90) / (width + height) + 60 + ((seed >>> 8) & 3)) | 0;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

const emulator = await GeminiEmulator.start({ latencyMs: Number(process.argv[2] ?? 0) });
// Latency of each call: `base` ms, or with `jitter` j > 0 drawn uniformly from base × [1 - j, 1 + j].
let base = Number(process.argv[2] ?? 0);
let jitter = 0;
let seed = 0x9e3779b9;
const draw = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return Math.round(base * (1 + jitter * (2 * (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 1)));
};
const server = (emulator as unknown as { server: Server }).server;
let timings: GeminiTiming[] = [];
server.prependListener('request', (req, res) => {
  const receivedAt = epochNow();
  const path = req.url ?? '';
  const kind = /-image[^/:]*:/.test(path) ? 'image' : /\/models\//.test(path) ? 'text' : 'other';
  let bytes = 0;
  const end = res.end.bind(res);
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) bytes = Buffer.byteLength(chunk as string);
    return (end as (...a: unknown[]) => typeof res)(chunk, ...rest);
  }) as typeof res.end;
  res.once('finish', () => timings.push({ kind, receivedAt, answeredAt: epochNow(), bytes }));
});

// `photo` mode: one queued image answer per size is always waiting; taking one queues the next.
const photos = new Map<string, Buffer>();
let photoMode = false;
const sizeOf = (body: unknown): string =>
  (body as { generationConfig?: { imageConfig?: { imageSize?: string } } })?.generationConfig?.imageConfig?.imageSize ?? '1K';
function queuePhoto(size: string): void {
  const png = photos.get(size)!;
  const behaviour: Behaviour = { kind: 'image', png };
  emulator.enqueue(behaviour, {
    model: /-image/,
    when: (r) => {
      if (!photoMode || sizeOf(r.body) !== size) return false;
      // The emulator reads its latency right after taking this answer.
      if (jitter > 0) emulator.setLatency(draw());
      queueMicrotask(() => queuePhoto(size));
      return true;
    },
  });
}
// Jittered latency for the calls answered by default (text, and pictures in `render` mode): one
// queued `latency` answer is always waiting, its delay drawn when it is taken.
function queueJitter(): void {
  const behaviour = { kind: 'latency', ms: base } as Extract<Behaviour, { kind: 'latency' }>;
  emulator.enqueue(behaviour, {
    when: (r) => {
      if (jitter <= 0 || (photoMode && /-image/.test(r.model))) return false;
      behaviour.ms = draw();
      queueMicrotask(queueJitter);
      return true;
    },
  });
}
queueJitter();
for (const size of ['1K', '2K']) {
  photos.set(size, await photoPng(size));
  queuePhoto(size);
}

process.on('message', (message: GeminiCommand) => {
  if (message.type === 'latency') {
    base = message.ms;
    jitter = message.jitter ?? 0;
    emulator.setLatency(base);
  }
  if (message.type === 'images') photoMode = message.mode === 'photo';
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuS: (user + system) / 1e6 });
    return;
  }
  if (message.type === 'take') {
    process.send?.({ timings });
    timings = [];
    // The emulator keeps every request it answered; the bench does not need them.
    emulator.requests.length = 0;
    return;
  }
  process.send?.({ ok: true });
});
process.on('disconnect', () => void emulator.close().then(() => process.exit(0)));
process.send?.({ url: emulator.url, photoBytes: Object.fromEntries([...photos].map(([size, png]) => [size, png.byteLength])) });
