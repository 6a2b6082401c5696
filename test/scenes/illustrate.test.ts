import { TurnOutOfRangeError } from '../../src/scenes/errors.ts';
import { CampaignNotFoundError, GenerationDisabledError } from '../../src/campaigns/errors.ts';
import {
  MalformedReplyError,
  MissingApiKeyError,
  NoImageError,
  PromptBlockedError,
  ProviderError,
  ProviderTimeoutError,
} from '../../src/platform/errors.ts';
import { by } from '../support/requests.ts';
import { appendFileSync, existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLimner, type Limner } from '../../src/app.ts';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { GeminiEmulator, type Behaviour } from '../emulators/gemini/server.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns, testConfig, sqliteOf } from '../support/fixtures.ts';

let emulator: GeminiEmulator;
let campaigns: { dir: string; cleanup: () => void };
let limner: Limner;

beforeAll(async () => {
  emulator = await GeminiEmulator.start();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  emulator.reset();
  campaigns = sampleCampaigns();
  const { config, secrets } = testConfig(campaigns.dir, emulator.url);
  limner = await createLimner(config, secrets, silentLogger);
});
afterEach(async () => {
  await limner.close();
  campaigns.cleanup();
});

const textCalls = () => emulator.requests.filter((r) => r.model === limner.config.generation.text_model);
const imageCalls = () => emulator.requests.filter((r) => r.model === limner.config.generation.image_model);
const partsText = (body: { contents: Array<{ parts: Array<{ text?: string }> }> }) =>
  body.contents.flatMap((c) => c.parts.map((p) => p.text ?? '')).join('\n');

function imagesOnDisk(): string[] {
  const dir = path.join(campaigns.dir, SAMPLE_CAMPAIGN, 'images');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('IllustrateScene through the Gemini emulator', () => {
  it('illustrates turn 1500 of the sample campaign: context near 1500, prompt from the text model, a 16:9 PNG and a row', async () => {
    const stages: string[] = [];
    const result = await limner.scenes.run(
      { kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 1500, requester: by('cli') },
      { onProgress: (s) => stages.push(s.stage) },
    );
    expect(stages).toEqual(['reading', 'writing-prompt', 'painting', 'saving']);

    const [text] = textCalls();
    const textIn = partsText(text!.body);
    expect(textIn).toContain('[Turn 1495] MATT:');
    expect(textIn).toContain('[Turn 1505] LAURA:');
    expect(textIn).not.toContain('[Turn 1494]');
    expect(textIn).not.toContain('[Turn 1506]');
    expect(textIn).toContain('Illustrate the moment of turn 1500');
    expect(textIn).toContain('goliath barbarian');
    expect(JSON.stringify(text!.body.systemInstruction)).toMatch(/Do NOT include any character or player names/);

    const [image] = imageCalls();
    expect(image!.body.generationConfig.responseModalities).toEqual(['IMAGE']);
    expect(image!.body.generationConfig.imageConfig).toEqual({ aspectRatio: '16:9', imageSize: '1K' });
    const sentPrompt = partsText(image!.body);
    expect(sentPrompt).toBe(result.image.prompt);
    expect(sentPrompt.startsWith(result.scene)).toBe(true);
    expect(sentPrompt).toMatch(/Art style: digital fantasy painting/);

    const meta = await sharp(result.file).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1376, 768]);
    const row = (await limner.images.get(result.image.id))!;
    expect(row).toMatchObject({
      campaignId: SAMPLE_CAMPAIGN,
      turn: 1500,
      mode: 'specific',
      provider: 'gemini',
      model: 'gemini-3.1-flash-image',
      textModel: 'gemini-3.5-flash',
      width: 1376,
      height: 768,
      requestedBy: 'cli',
      parentImageId: null,
      imagePath: `${SAMPLE_CAMPAIGN}/images/${result.image.id}.png`,
    });
    expect(row.bytes).toBe((await import('node:fs')).statSync(result.file).size);
    expect(row.inputTokens).toBeGreaterThan(0);
    expect(row.outputTokens).toBeGreaterThanOrEqual(1120);
    // 1,120 image tokens at $60 per million plus the text call: a few cents.
    expect(row.costUsd).toBeGreaterThan(0.0672);
    expect(row.costUsd).toBeLessThan(0.1);
    expect(Date.parse(row.createdAt)).not.toBeNaN();
  });

  it('illustrates the current scene with the last N entries', async () => {
    const result = await limner.scenes.run({
      kind: 'current',
      campaignId: SAMPLE_CAMPAIGN,
      contextEntries: 3,
      requester: by('123'),
    });
    expect(result.image).toMatchObject({ turn: 2160, mode: 'current', requestedBy: '123' });
    const textIn = partsText(textCalls()[0]!.body);
    expect(textIn.match(/\[Turn \d+\]/g)).toEqual(['[Turn 2158]', '[Turn 2159]', '[Turn 2160]']);
    expect(textIn).toContain('Illustrate the latest moment');
  });

  it('keeps a portrait-shaped picture portrait when it is rerolled or edited', async () => {
    const scene = await limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 42, shape: 'portrait', requester: by('7') });
    expect(scene.image.height).toBeGreaterThan(scene.image.width);
    const rerolled = await limner.edits.reroll({ imageId: scene.image.id, requester: by('7') });
    const edited = await limner.edits.edit({
      target: { kind: 'image', imageId: scene.image.id },
      requester: by('7'),
      instruction: 'make it night',
    });
    for (const { image } of [rerolled, edited]) expect([image.width, image.height]).toEqual([scene.image.width, scene.image.height]);
  });

  it('saves the picture durably before resolving: file, row, session and usage link together', async () => {
    const result = await limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 42, requester: by('7') });
    expect(await limner.images.get(result.image.id)).toEqual(result.image);
    expect(existsSync(result.file)).toBe(true);
    expect((await limner.sessions.get('7', SAMPLE_CAMPAIGN))?.currentImageId).toBe(result.image.id);
    const linked = sqliteOf(limner.store).prepare("select image_id as imageId from usage where purpose = 'image'").all();
    expect(linked).toEqual([{ imageId: result.image.id }]);
  });

  it('rejects when the picture cannot be stored, leaving no row and no session', async () => {
    // A file where the images folder should be: the durable write fails after painting.
    writeFileSync(path.join(campaigns.dir, SAMPLE_CAMPAIGN, 'images'), 'not a folder');
    await expect(limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 42, requester: by('7') })).rejects.toMatchObject({
      code: expect.stringMatching(/^E/),
    });
    expect(await limner.images.list(parseCampaignId(SAMPLE_CAMPAIGN))).toEqual([]);
    expect(await limner.sessions.get('7', SAMPLE_CAMPAIGN)).toBeUndefined();
  });

  it('sends character reference images as inlineData parts', async () => {
    const yamlFile = path.join(campaigns.dir, SAMPLE_CAMPAIGN, 'campaign.yaml');
    const yaml = (await import('node:fs')).readFileSync(yamlFile, 'utf8');
    writeFileSync(yamlFile, yaml.replace('fur and leather armour', 'fur and leather armour\n    reference_image: grog.jpg'));
    await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#804020' } })
      .jpeg()
      .toFile(path.join(campaigns.dir, SAMPLE_CAMPAIGN, 'grog.jpg'));
    // TRAVIS, who plays Grog, speaks around turn 3.
    const scene = await limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 3, requester: by('cli') });
    expect(scene.referenced).toEqual(['Grog Strongjaw (played by TRAVIS)']);
    const parts = imageCalls()[0]!.body.contents[0].parts as Array<{ inlineData?: { mimeType: string; data: string } }>;
    const inline = parts.filter((p) => p.inlineData);
    expect(inline).toHaveLength(1);
    expect(inline[0]!.inlineData!.mimeType).toBe('image/png');
    const ref = await sharp(Buffer.from(inline[0]!.inlineData!.data, 'base64')).metadata();
    expect([ref.width, ref.height]).toEqual([1024, 768]);
  });

  it('retries 429 and 503 through the SDK and then succeeds', async () => {
    emulator.enqueue({ kind: 'status', status: 429, retryAfterSeconds: 0 }, { model: /image/ });
    emulator.enqueue({ kind: 'status', status: 503 }, { model: /image/ });
    const result = await limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 5, requester: by('cli') });
    expect(imageCalls()).toHaveLength(3);
    expect(existsSync(result.file)).toBe(true);
  });

  it('refuses a turn outside the transcript before any model call', async () => {
    await expect(limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 9999, requester: by('cli') })).rejects.toThrow(
      new TurnOutOfRangeError(9999, 1, 2160),
    );
    expect(emulator.requests).toHaveLength(0);
  });

  it('prechecks from the campaign as last read, and reads the files again before refusing', async () => {
    const dir = path.join(campaigns.dir, SAMPLE_CAMPAIGN);
    const request = (turn: number) => ({ kind: 'turn' as const, campaignId: SAMPLE_CAMPAIGN, turn, requester: by('cli') });
    await limner.scenes.check(request(100));
    renameSync(path.join(dir, 'campaign.yaml'), path.join(dir, 'campaign.yaml.away'));
    // No file is read: the acknowledgement does not wait on the disk.
    await expect(limner.scenes.check(request(100))).resolves.toBeUndefined();
    await expect(limner.scenes.run(request(100))).rejects.toBeInstanceOf(CampaignNotFoundError);
    renameSync(path.join(dir, 'campaign.yaml.away'), path.join(dir, 'campaign.yaml'));
    await limner.scenes.check(request(100));
    // Turn 2,161 is past the transcript as last read; the check rereads it before refusing.
    appendFileSync(path.join(dir, 'transcript.jsonl'), `${JSON.stringify({ turn: 2161, speaker: 'MATT', text: 'One more thing.' })}\n`);
    await expect(limner.scenes.check(request(2161))).resolves.toBeUndefined();
    await expect(limner.scenes.check(request(2162))).rejects.toThrow(new TurnOutOfRangeError(2162, 1, 2161));
    expect(emulator.requests).toHaveLength(0);
  });

  const failures: Array<[string, Behaviour, 'text' | 'image', new (...a: never[]) => Error, RegExp]> = [
    [
      'a blocked prompt',
      { kind: 'blocked', blockReason: 'PROHIBITED_CONTENT' },
      'text',
      PromptBlockedError,
      /blocked by Gemini's safety filters \(PROHIBITED_CONTENT\)/,
    ],
    ['a blocked image prompt', { kind: 'blocked' }, 'image', PromptBlockedError, /\(SAFETY\)/],
    [
      'a SAFETY finish',
      { kind: 'finish', finishReason: 'SAFETY' },
      'image',
      NoImageError,
      /withheld by Gemini's safety filters \(SAFETY\)/,
    ],
    ['an IMAGE_SAFETY finish', { kind: 'finish', finishReason: 'IMAGE_SAFETY' }, 'image', NoImageError, /IMAGE_SAFETY/],
    ['a PROHIBITED_CONTENT finish', { kind: 'finish', finishReason: 'PROHIBITED_CONTENT' }, 'image', NoImageError, /prohibited content/],
    ['a NO_IMAGE finish', { kind: 'finish', finishReason: 'NO_IMAGE' }, 'image', NoImageError, /could not draw this scene \(NO_IMAGE\)/],
    ['a text-only reply', { kind: 'text', text: 'I would rather describe it.' }, 'image', NoImageError, /text but no picture/],
    ['a SAFETY finish of the text model', { kind: 'finish', finishReason: 'SAFETY' }, 'text', PromptBlockedError, /\(SAFETY\)/],
    ['malformed JSON', { kind: 'malformed' }, 'image', MalformedReplyError, /could not read/],
    [
      'an image part that is not an image',
      { kind: 'image', png: Buffer.from('not a png at all') },
      'image',
      MalformedReplyError,
      /could not read/,
    ],
    [
      'a persistent 500',
      { kind: 'status', status: 500 },
      'image',
      ProviderError,
      /Gemini answered with an error \(HTTP 500\)\. Please try again\./,
    ],
  ];

  it.each(failures)(
    'maps %s to a typed error with a user-facing message and stores nothing',
    async (_name, behaviour, target, type, message) => {
      const model = target === 'text' ? limner.config.generation.text_model : limner.config.generation.image_model;
      // A persistent failure must outlast the SDK's retries.
      for (let i = 0; i < 3; i++) emulator.enqueue(behaviour, { model });
      const err = await limner.scenes
        .run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 100, requester: by('cli') })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect((err as { message: string }).message).toMatch(message);
      expect(await limner.images.list(parseCampaignId(SAMPLE_CAMPAIGN))).toEqual([]);
      expect(imagesOnDisk()).toEqual([]);
    },
  );

  it('gives up on a hanging call within the total timeout', async () => {
    await limner.close();
    const { config, secrets } = testConfig(campaigns.dir, emulator.url, { gemini: { total_timeout_ms: 300, attempt_timeout_ms: 5000 } });
    limner = await createLimner(config, secrets, silentLogger);
    emulator.enqueue({ kind: 'hang' }, { model: /image/ });
    const started = performance.now();
    const err = await limner.scenes
      .run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 7, requester: by('cli') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderTimeoutError);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(imagesOnDisk()).toEqual([]);
  });

  it('retries an attempt that times out and succeeds on the next', async () => {
    await limner.close();
    // Generous per-attempt budget so a slow, loaded machine does not time out healthy attempts too.
    const { config, secrets } = testConfig(campaigns.dir, emulator.url, { gemini: { total_timeout_ms: 8000, attempt_timeout_ms: 1000 } });
    limner = await createLimner(config, secrets, silentLogger);
    emulator.enqueue({ kind: 'hang' }, { model: /image/ });
    const result = await limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 7, requester: by('cli') });
    expect(imageCalls()[0]!.answer).toBe('hang');
    expect(imageCalls().length).toBeGreaterThanOrEqual(2);
    expect(existsSync(result.file)).toBe(true);
  });

  it('says when no API key is configured, without calling Gemini', async () => {
    await limner.close();
    const { config, secrets } = testConfig(campaigns.dir, emulator.url, {}, null);
    limner = await createLimner(config, secrets, silentLogger);
    await expect(limner.scenes.run({ kind: 'current', campaignId: SAMPLE_CAMPAIGN, requester: by('cli') })).rejects.toBeInstanceOf(
      MissingApiKeyError,
    );
    expect(emulator.requests).toHaveLength(0);
  });

  it('maps a rejected API key to a clear message', async () => {
    emulator.enqueue({ kind: 'status', status: 403, message: "Method doesn't allow unregistered callers." });
    const err = await limner.scenes.run({ kind: 'current', campaignId: SAMPLE_CAMPAIGN, requester: by('cli') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toMatch(/rejected the API key \(HTTP 40[13]\)/);
  });

  it('answers "not enabled" for a disabled campaign or a global switch-off', async () => {
    const yamlFile = path.join(campaigns.dir, SAMPLE_CAMPAIGN, 'campaign.yaml');
    const fs = await import('node:fs');
    fs.writeFileSync(yamlFile, `${fs.readFileSync(yamlFile, 'utf8')}enabled: false\n`);
    await expect(limner.scenes.run({ kind: 'current', campaignId: SAMPLE_CAMPAIGN, requester: by('cli') })).rejects.toThrow(
      new GenerationDisabledError(),
    );
    expect(emulator.requests).toHaveLength(0);
  });
});
