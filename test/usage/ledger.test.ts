import { MalformedReplyError, NoImageError, PromptBlockedError, ReplyCutOffError } from '../../src/platform/errors.ts';
import { by } from '../support/requests.ts';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLimner, type Limner } from '../../src/app.ts';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { usage } from '../../src/platform/schema.ts';
import { GeminiEmulator, type Behaviour } from '../emulators/gemini/server.ts';
import { BudgetGuard } from '../../src/jobs/budget.ts';
import { JobStore } from '../../src/jobs/store.ts';
import type { CallUsage } from '../../src/platform/gemini.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { formatTotals, usageReport } from '../../src/usage/report.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns, testConfig } from '../support/fixtures.ts';
import { describeEachDialect, linkUsage, openTestStore, type TestStore } from '../support/postgres.ts';

describeEachDialect('UsageLedger', (dialect) => {
  let t: TestStore;
  let ledger: UsageLedger;
  beforeEach(async () => {
    t = await openTestStore(dialect);
    ledger = new UsageLedger(t.store);
  });
  afterEach(async () => {
    await t.close();
  });

  const call = (costUsd: number, tokens = 100): CallUsage => ({
    model: 'gemini-3.1-flash-image',
    inputTokens: tokens,
    outputTokens: 2 * tokens,
    imageTokens: tokens,
    costUsd,
    estimatedInputTokens: tokens,
  });

  it('sums calls, pictures, tokens and cost since a time, per guild or user, as numbers', async () => {
    await ledger.record({ userId: 'a', guildId: 'g1' }, 'prompt', call(0.01));
    await linkUsage(t.store, await ledger.record({ userId: 'a', guildId: 'g1' }, 'image', call(0.07)), 'img1');
    await linkUsage(t.store, await ledger.record({ userId: 'b', guildId: 'g2' }, 'image', call(0.05, 50)), 'img2');
    // A call whose picture was never stored counts its cost but no picture.
    await ledger.record({ userId: 'b', guildId: 'g1' }, 'image', call(0.04));
    const since = '2000-01-01T00:00:00.000Z';
    expect(await ledger.totals({ since })).toEqual({
      calls: 4,
      images: 2,
      inputTokens: 350,
      outputTokens: 700,
      costUsd: expect.closeTo(0.17, 10),
    });
    expect(await ledger.totals({ since, guildId: 'g1' })).toMatchObject({ calls: 3, images: 1, costUsd: expect.closeTo(0.12, 10) });
    expect(await ledger.totals({ since, userId: 'b' })).toMatchObject({ calls: 2, images: 1, inputTokens: 150 });
    expect(await ledger.totals({ since, guildId: 'g1', userId: 'b' })).toMatchObject({ calls: 1, images: 0 });
    expect(await ledger.totals({ since: new Date(Date.now() + 60_000).toISOString() })).toEqual({
      calls: 0,
      images: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
    });
  });

  it("reports a user's and a guild's use today and this month, and what the budgets leave", async () => {
    const { config } = testConfig(t.dir, 'http://127.0.0.1:9');
    const budgets = new BudgetGuard(
      { ...config, budgets: { ...config.budgets, guild_daily_images: 5, user_daily_images: null } },
      ledger,
      new JobStore(t.store),
    );
    await linkUsage(t.store, await ledger.record({ userId: 'a', guildId: 'g1' }, 'image', call(0.07)), 'img1');
    await linkUsage(t.store, await ledger.record({ userId: 'b', guildId: 'g1' }, 'image', call(0.07)), 'img2');
    const report = await usageReport(ledger, budgets, 'a', 'g1');
    expect(formatTotals(report.user.today)).toBe('1 picture · $0.07');
    expect(formatTotals(report.guild!.month)).toBe('2 pictures · $0.14');
    expect(report.budget).toMatchObject({ guildImagesLeft: 3, userImagesLeft: null });
    expect((await usageReport(ledger, budgets, 'a', null)).guild).toBeUndefined();
  });
});

let emulator: GeminiEmulator;
let campaigns: { dir: string; cleanup: () => void };
let limner: Limner;
/** Warnings and errors the service logged, as pino JSON objects. */
let logged: Array<{ level: number; msg: string }>;

beforeAll(async () => {
  emulator = await GeminiEmulator.start();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  emulator.reset();
  campaigns = sampleCampaigns();
  logged = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(JSON.parse(chunk.toString('utf8')));
      done();
    },
  });
  const { config, secrets } = testConfig(campaigns.dir, emulator.url);
  limner = await createLimner(config, secrets, pino({ level: 'warn' }, sink));
});
afterEach(async () => {
  await limner.close();
  campaigns.cleanup();
});

const ledger = () => limner.store.db.select().from(usage).all();
const textModel = () => limner.config.generation.text_model;
const imageModel = () => limner.config.generation.image_model;
const turn = (n: number, requestedBy = 'cli') =>
  limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: n, requester: by(requestedBy) });

describe('the usage ledger records every billed call, failures included', () => {
  const failures: Array<[string, Behaviour, 'text' | 'image', new (...a: never[]) => Error, string[]]> = [
    ['a blocked prompt of the text model', { kind: 'blocked', blockReason: 'PROHIBITED_CONTENT' }, 'text', PromptBlockedError, ['prompt']],
    ['a SAFETY finish of the text model', { kind: 'finish', finishReason: 'SAFETY' }, 'text', PromptBlockedError, ['prompt']],
    ['a blocked image prompt', { kind: 'blocked' }, 'image', PromptBlockedError, ['prompt', 'image']],
    ['a SAFETY finish of the image model', { kind: 'finish', finishReason: 'SAFETY' }, 'image', NoImageError, ['prompt', 'image']],
    ['a text-only image reply', { kind: 'text', text: 'I would rather describe it.' }, 'image', NoImageError, ['prompt', 'image']],
    [
      'image bytes that do not decode',
      { kind: 'image', png: Buffer.from('not a png at all') },
      'image',
      MalformedReplyError,
      ['prompt', 'image'],
    ],
  ];

  it.each(failures)('%s leaves one row per call, with its tokens and no picture', async (_name, behaviour, target, type, purposes) => {
    emulator.enqueue(behaviour, { model: target === 'text' ? textModel() : imageModel() });
    const err = await turn(100, '42').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    const rows = ledger();
    expect(rows.map((r) => r.purpose)).toEqual(purposes);
    expect(emulator.requests).toHaveLength(purposes.length);
    for (const row of rows) {
      expect(row).toMatchObject({ userId: '42', campaignId: SAMPLE_CAMPAIGN, images: 0, imageId: null });
      expect(row.inputTokens).toBeGreaterThan(0);
    }
    expect(await limner.usage.totals({ since: '2000-01-01', userId: '42' })).toMatchObject({ calls: purposes.length, images: 0 });
  });

  it('records a successful scene once per call and links the image call to its picture', async () => {
    const result = await turn(100);
    const rows = ledger();
    expect(rows.map((r) => [r.purpose, r.images, r.imageId])).toEqual([
      ['prompt', 0, null],
      ['image', 1, result.image.id],
    ]);
    expect(rows[1]!.imageTokens).toBeGreaterThan(0);
  });

  it('records a failed edit under purpose edit', async () => {
    const first = await turn(100, '42');
    emulator.enqueue({ kind: 'finish', finishReason: 'IMAGE_SAFETY' }, { model: imageModel() });
    const err = await limner.edits
      .edit({
        target: { kind: 'image', imageId: first.image.id },
        requester: by('42', 'g1'),
        instruction: 'make it night',
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoImageError);
    expect(ledger().at(-1)).toMatchObject({
      purpose: 'edit',
      userId: '42',
      guildId: 'g1',
      jobId: expect.any(String),
      images: 0,
      imageId: null,
    });
  });
});

describe('the prompt writer', () => {
  it('asks for low thinking, so thought tokens leave room for the description', async () => {
    await turn(200);
    const writer = emulator.requests.find((r) => r.model === textModel())!;
    expect(writer.body.generationConfig).toMatchObject({ maxOutputTokens: 1024, thinkingConfig: { thinkingLevel: 'LOW' } });
  });

  it('refuses a reply that hit the output limit before any text, with a typed error, and records the call', async () => {
    emulator.enqueue({ kind: 'finish', finishReason: 'MAX_TOKENS' }, { model: textModel() });
    const err = await turn(200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplyCutOffError);
    expect((err as ReplyCutOffError).message).toMatch(/ran out of room/);
    expect(emulator.requests.filter((r) => r.model === imageModel())).toEqual([]);
    expect(ledger().map((r) => r.purpose)).toEqual(['prompt']);
    expect(await limner.images.list(parseCampaignId(SAMPLE_CAMPAIGN))).toEqual([]);
  });

  it('paints a description cut at the output limit, with a warning', async () => {
    emulator.enqueue(
      { kind: 'text', text: 'A goliath raises a maul in a torchlit tunnel while', finishReason: 'MAX_TOKENS' },
      { model: textModel() },
    );
    const result = await turn(200);
    expect(result.scene).toBe('A goliath raises a maul in a torchlit tunnel while');
    expect(logged.filter((l) => l.level === 40).map((l) => l.msg)).toEqual(['model reply cut at the output token limit']);
    const meta = await sharp(result.file).metadata();
    expect(meta.format).toBe('png');
  });
});

describe('GeminiGateway.generate', () => {
  it('records the reply before refusing it, under the origin and purpose it is given', async () => {
    await limner.close();
    const { config, secrets } = testConfig(campaigns.dir, emulator.url);
    limner = await createLimner(config, secrets, silentLogger);
    emulator.enqueue({ kind: 'blocked', blockReason: 'OTHER' });
    const err = await limner.gateway
      .generate(
        { model: textModel(), contents: [{ role: 'user', parts: [{ text: 'hello' }] }] },
        { record: { origin: { userId: 'u', channelId: 'c1', jobId: 'j1' }, purpose: 'scan' } },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptBlockedError);
    expect(ledger()).toMatchObject([{ userId: 'u', channelId: 'c1', jobId: 'j1', purpose: 'scan', model: textModel() }]);
  });
});
