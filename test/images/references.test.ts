import { TooManyReferencesError } from '../../src/edits/errors.ts';
import { by } from '../support/requests.ts';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLimner, type Limner } from '../../src/app.ts';
import type { Character } from '../../src/campaigns/campaign.ts';
import { MAX_USER_REFERENCES } from '../../src/edits/edit.ts';
import { choosePortraits, fitInlineBudget, MAX_INLINE_BYTES, MAX_INPUT_IMAGES } from '../../src/images/references.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { GeminiEmulator, type RecordedRequest } from '../emulators/gemini/server.ts';
import { sampleCampaigns, testConfig } from '../support/fixtures.ts';

/** A solid PNG whose red channel encodes `n`, so a portrait can be recognised in a request. */
function solid(n: number, side = 32): Promise<Buffer> {
  return sharp({ create: { width: side, height: side, channels: 3, background: { r: n, g: 40, b: 90 } } })
    .png()
    .toBuffer();
}

/** A PNG of noise: it hardly compresses, so a few of them exceed Gemini's request size. */
function noise(side: number): Promise<Buffer> {
  return sharp({
    create: { width: side, height: side, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } },
  })
    .png()
    .toBuffer();
}

/** The red channel of an inline image's first pixel: the `n` of {@link solid}. */
async function marker(data: string): Promise<number> {
  const { data: pixels } = await sharp(Buffer.from(data, 'base64')).raw().toBuffer({ resolveWithObject: true });
  return pixels[0]!;
}

const inline = (r: RecordedRequest): Array<{ mimeType: string; data: string }> =>
  (r.body.contents[0].parts as Array<{ inlineData?: { mimeType: string; data: string } }>).flatMap((p) =>
    p.inlineData ? [p.inlineData] : [],
  );

describe('choosePortraits', () => {
  const people: Character[] = ['Grog Strongjaw (played by TRAVIS)', 'Keyleth (played by MARISHA)', 'Scanlan', 'Trinket'].map((name) => ({
    name,
    description: 'looks',
    referenceImage: `/p/${name}.png`,
  }));
  const line = (speaker: string, text = '...') => ({ turn: 1, speaker, text });

  it('puts the characters who speak in the context first, most lines first, then those named in the text; no one else', () => {
    const chosen = choosePortraits(
      people,
      [line('MATT', 'Trinket growls.'), line('Scanlan'), line('MARISHA'), line('scanlan', 'Trinket? Trinket!')],
      10,
    );
    expect(chosen.map((c) => c.name)).toEqual(['Scanlan', 'Keyleth (played by MARISHA)', 'Trinket']);
  });

  it('with others, follows the characters present with the rest in campaign order (edits)', () => {
    const chosen = choosePortraits(people, [line('Scanlan')], 10, { others: true });
    expect(chosen.map((c) => c.name)).toEqual(['Scanlan', 'Grog Strongjaw (played by TRAVIS)', 'Keyleth (played by MARISHA)', 'Trinket']);
  });

  it('names in the text count as whole words starting with a capital, ties in order of first appearance', () => {
    const chosen = choosePortraits(people, [line('MATT', 'a pike, a trinket. Then Keyleth, then Grog’s axe; GROG!')], 10);
    expect(chosen.map((c) => c.name)).toEqual(['Grog Strongjaw (played by TRAVIS)', 'Keyleth (played by MARISHA)']);
  });

  it('caps the portraits at the room left and leaves out characters without one', () => {
    const withoutPortrait = { name: 'Vex', description: 'ranger' };
    expect(choosePortraits([withoutPortrait, ...people], [line('Vex'), line('TRAVIS'), line('MARISHA')], 1).map((c) => c.name)).toEqual([
      'Grog Strongjaw (played by TRAVIS)',
    ]);
    expect(choosePortraits(people, [], 0)).toEqual([]);
    // A speaker's name must be a whole word of the character's: "Tri" is not Trinket.
    expect(choosePortraits(people, [line('Tri')], 1)).toEqual([]);
  });
});

describe('fitInlineBudget', () => {
  it('keeps images that fit as they are', async () => {
    const images = [{ mimeType: 'image/png', data: await solid(1) }];
    expect(await fitInlineBudget(images)).toEqual(images);
  });

  it('re-encodes, then shrinks, the largest images until their base64 fits, keeping their order', async () => {
    const big = await noise(600);
    const small = await solid(7);
    const budget = 120_000;
    const fitted = await fitInlineBudget(
      [
        { mimeType: 'image/png', data: small },
        { mimeType: 'image/png', data: big },
      ],
      budget,
    );
    expect(fitted[0]).toEqual({ mimeType: 'image/png', data: small });
    expect(fitted[1]!.mimeType).toBe('image/jpeg');
    expect(fitted.reduce((sum, i) => sum + Math.ceil(i.data.byteLength / 3) * 4, 0)).toBeLessThanOrEqual(budget);
    const meta = await sharp(fitted[1]!.data).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBeLessThan(600);
  });
});

describe('many portraits through the Gemini emulator', () => {
  let emulator: GeminiEmulator;
  let campaigns: { dir: string; cleanup: () => void };
  let limner: Limner;
  const PORTRAITS = 20;

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
    // A play-by-post table of 20 members, each with a portrait; members 18 and 19 speak in the scene.
    const dir = await limner.campaigns.create('crowd', { name: 'Crowded Table', characters: [] }, [
      { turn: 1, speaker: 'GM', text: 'The tavern is packed.' },
      { turn: 2, speaker: 'Member 19', text: 'I climb onto the table.' },
      { turn: 3, speaker: 'Member 18', text: 'I cheer.' },
      { turn: 4, speaker: 'Member 19', text: 'I raise my tankard.' },
    ]);
    const characters = [];
    for (let n = 0; n < PORTRAITS; n++) {
      await writeFile(path.join(dir, `m${n}.png`), await solid(n * 10));
      characters.push({ name: `Member ${n}`, description: `patron number ${n}`, reference_image: `m${n}.png` });
    }
    await limner.campaigns.create(
      'crowd',
      { name: 'Crowded Table', characters },
      (await limner.campaigns.load('crowd')).transcript.entries,
    );
  });
  afterEach(async () => {
    await limner.close();
    campaigns.cleanup();
  });

  const imageCalls = () => emulator.requests.filter((r) => r.model === limner.config.generation.image_model);

  it('sends with a scene the portraits of the characters in it only, those who speak most first', async () => {
    const scene = await limner.scenes.run({ kind: 'turn', campaignId: 'crowd', turn: 4, requester: by('cli') });
    const sent = inline(imageCalls()[0]!);
    expect(await Promise.all(sent.map((i) => marker(i.data)))).toEqual([190, 180]);
    expect(scene.referenced).toEqual(['Member 19', 'Member 18']);
  });

  it('edits with the picture, every user reference and as many portraits as still fit', async () => {
    const scene = await limner.scenes.run({ kind: 'turn', campaignId: 'crowd', turn: 4, requester: by('cli') });
    emulator.reset();
    const references = await Promise.all([251, 252, 253].map(async (n, i) => ({ name: `ref${i}.png`, bytes: await solid(n) })));
    await limner.edits.edit({
      target: { kind: 'image', imageId: scene.image.id },
      requester: by('cli'),
      instruction: 'make it night',
      references,
    });
    const sent = inline(imageCalls()[0]!);
    expect(sent).toHaveLength(MAX_INPUT_IMAGES);
    const markers = await Promise.all(sent.slice(1).map((i) => marker(i.data)));
    // 10 portraits (the speakers first), then the user's 3 references.
    expect(markers).toEqual([190, 180, ...Array.from({ length: 8 }, (_, n) => n * 10), 251, 252, 253]);
  });

  it('refuses more user references than an edit can take, whatever the portraits', async () => {
    const scene = await limner.scenes.run({ kind: 'turn', campaignId: 'crowd', turn: 4, requester: by('cli') });
    const dot = await solid(1, 8);
    const tooMany = Array.from({ length: MAX_USER_REFERENCES + 1 }, (_, i) => ({ name: `r${i}.png`, bytes: dot }));
    const err = await limner.edits
      .edit({ target: { kind: 'image', imageId: scene.image.id }, requester: by('cli'), instruction: 'x', references: tooMany })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyReferencesError);
    expect((err as TooManyReferencesError).message).toBe('Too many reference images (14): an edit can take at most 13.');
  });

  it("keeps a request with large portraits within Gemini's request size", async () => {
    const dir = path.join(campaigns.dir, 'crowd');
    // 1024x1024 noise is about 3 MB as PNG, 4 MB in base64: 14 of them are far over 20 MB.
    const big = await noise(1024);
    for (let n = 0; n < PORTRAITS; n++) await writeFile(path.join(dir, `m${n}.png`), big);
    // An edit sends the picture and as many portraits as fit (a scene only those of the characters in it).
    const scene = await limner.scenes.run({ kind: 'turn', campaignId: 'crowd', turn: 4, requester: by('cli') });
    emulator.reset();
    await limner.edits.edit({ target: { kind: 'image', imageId: scene.image.id }, requester: by('cli'), instruction: 'make it night' });
    const sent = inline(imageCalls()[0]!);
    expect(sent).toHaveLength(MAX_INPUT_IMAGES);
    expect(sent.reduce((sum, i) => sum + i.data.length, 0)).toBeLessThanOrEqual(MAX_INLINE_BYTES);
    expect(sent.some((i) => i.mimeType === 'image/jpeg')).toBe(true);
  }, 60_000);
});
