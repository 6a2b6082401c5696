import { ModelImageTooLargeError } from '../../src/images/errors.ts';
import { NonImagePartError, ProviderError } from '../../src/platform/errors.ts';
import { by } from '../support/requests.ts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createLimner, type Limner } from '../../src/app.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { retryDelayMs } from '../../src/platform/retry-after.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns, testConfig } from '../support/fixtures.ts';
import { isScanCall, scannerScript } from '../support/scanner-script.ts';

let emulator: GeminiEmulator;
let campaigns: { dir: string; cleanup: () => void };
let limner: Limner | undefined;

beforeAll(async () => {
  emulator = await GeminiEmulator.start();
  campaigns = sampleCampaigns();
});
afterAll(async () => {
  await emulator.close();
  campaigns.cleanup();
});
beforeEach(() => emulator.reset());
afterEach(async () => {
  await limner?.close();
  limner = undefined;
});

/** A Limner on the emulator with these configuration overrides (over test/support/test-config.yaml). */
async function open(overrides: Record<string, unknown> = {}): Promise<Limner> {
  const { config, secrets } = testConfig(campaigns.dir, emulator.url, overrides);
  limner = await createLimner(config, secrets, silentLogger);
  return limner;
}

const turn = (l: Limner) => l.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 100, requester: by('cli') });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err as Error,
  );
const TEXT = /flash$/;

describe("Gemini's rate limit (429)", () => {
  it('waits as long as RetryInfo asks when that fits the budget, then goes on', async () => {
    const l = await open();
    emulator.enqueue({ kind: 'status', status: 429, retryAfterSeconds: 1.2 }, { model: TEXT });
    await turn(l);
    const texts = emulator.requests.filter((r) => TEXT.test(r.model));
    expect(texts).toHaveLength(2);
    expect(texts[1]!.receivedAt - texts[0]!.receivedAt).toBeGreaterThanOrEqual(1150);
  });

  it("fails at once, as Gemini's rate limit naming the step and the wait, when the wait would outlast the budget", async () => {
    const l = await open({ gemini: { total_timeout_ms: 5000 } });
    emulator.enqueue({ kind: 'status', status: 429, retryAfterSeconds: 30 }, { model: TEXT });
    const started = performance.now();
    const err = await failure(turn(l));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ status: 429, step: 'prompt', retryAfterMs: 30_000 });
    expect(err!.message).toBe("Limner has reached Gemini's rate limit while writing the prompt. Please try again in 30 s.");
    expect(emulator.requests).toHaveLength(1);
  });

  it('without a delay in the answer, backs off as configured and gives up after gemini.retry.attempts', async () => {
    const l = await open();
    for (let i = 0; i < 3; i++) emulator.enqueue({ kind: 'status', status: 429 }, { model: /image/ });
    const err = await failure(turn(l));
    expect(err).toMatchObject({ status: 429, step: 'image', retryAfterMs: undefined });
    expect(err!.message).toBe("Limner has reached Gemini's rate limit while painting the picture. Please try again in a minute.");
    expect(emulator.requests.filter((r) => /image/.test(r.model))).toHaveLength(3);
  });
});

describe('failures say which step failed', () => {
  it('the prompt writer: "writing the prompt", not "Image generation failed"', async () => {
    const l = await open();
    for (let i = 0; i < 3; i++) emulator.enqueue({ kind: 'status', status: 500 }, { model: TEXT });
    const err = await failure(turn(l));
    expect(err).toMatchObject({ code: 'provider_failed', status: 500, step: 'prompt' });
    expect(err!.message).toBe('Gemini failed while writing the prompt (HTTP 500). Please try again.');
  });

  it('the scanner: "reading the session"', async () => {
    const l = await open();
    emulator.onText(scannerScript());
    // The session is read in several passages at once: every attempt of each fails.
    for (let i = 0; i < 100; i++) emulator.enqueue({ kind: 'status', status: 503 }, { when: isScanCall });
    const err = await failure(l.scenes.run({ kind: 'best', campaignId: SAMPLE_CAMPAIGN, requester: by('cli') }));
    emulator.onText(undefined);
    expect(err).toMatchObject({ step: 'scan' });
    expect(err!.message).toBe('Gemini failed while reading the session (HTTP 503). Please try again.');
  });
});

describe('pictures the model sends that cannot be kept', () => {
  it('a picture over generation.max_input_pixels says it was too large', async () => {
    const l = await open({ generation: { max_input_pixels: 1_000_000 } });
    const before = (await l.images.list(SAMPLE_CAMPAIGN as never)).length;
    const big = await sharp({ create: { width: 1100, height: 1000, channels: 3, background: '#400' } })
      .png()
      .toBuffer();
    emulator.enqueue({ kind: 'image', png: big }, { model: /image/ });
    const err = await failure(turn(l));
    expect(err).toBeInstanceOf(ModelImageTooLargeError);
    expect(err!.message).toBe(
      'Gemini sent a picture larger than 1,000,000 pixels (width × height), the limit of generation.max_input_pixels, so it was not kept. Please try again.',
    );
    expect(await l.images.list(SAMPLE_CAMPAIGN as never)).toHaveLength(before);
  });

  it('a part that is not an image says what arrived; image bytes that do not decode say their type and size', async () => {
    const l = await open();
    emulator.enqueue({ kind: 'image', png: Buffer.from('%PDF-1.7 not a picture'), mimeType: 'application/pdf' }, { model: /image/ });
    const pdf = await failure(turn(l));
    expect(pdf).toBeInstanceOf(NonImagePartError);
    expect(pdf!.message).toBe('Gemini answered with application/pdf data instead of a picture. Please try again.');
    emulator.enqueue({ kind: 'image', png: Buffer.from('not a png at all') }, { model: /image/ });
    const broken = await failure(turn(l));
    expect(broken!.message).toBe('Gemini sent a picture (image/png, 16 bytes) that Limner could not read. Please try again.');
  });
});

describe('retryDelayMs', () => {
  const apiError = (details: unknown[]) =>
    Object.assign(new Error(JSON.stringify({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', details } })), {
      name: 'ApiError',
      status: 429,
    });

  it('reads RetryInfo.retryDelay from the JSON error body, in seconds with fractions', () => {
    expect(retryDelayMs(apiError([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '41s' }]))).toBe(41_000);
    expect(
      retryDelayMs(
        apiError([
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure' },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' },
        ]),
      ),
    ).toBe(1500);
  });

  it('is undefined when no delay is named or it does not parse', () => {
    expect(retryDelayMs(apiError([]))).toBeUndefined();
    expect(retryDelayMs(apiError([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: 'soon' }]))).toBeUndefined();
    expect(retryDelayMs(new Error('plain text'))).toBeUndefined();
    expect(retryDelayMs(undefined)).toBeUndefined();
  });
});
