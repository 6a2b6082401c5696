import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCampaignId } from '../src/campaigns/id.ts';
import { InvalidImageError } from '../src/errors.ts';
import { normaliseToPng } from '../src/images/normalise.ts';
import { ImageStore, type NewImage } from '../src/images/store.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { tempDir } from './support/fixtures.ts';

const campaignId = parseCampaignId('vault');
const meta: NewImage = {
  campaignId,
  turn: 3,
  mode: 'specific',
  prompt: 'A vault door of black iron.',
  provider: 'gemini',
  model: 'gemini-3.1-flash-image',
  textModel: 'gemini-3.5-flash',
  inputTokens: 10,
  outputTokens: 1120,
  costUsd: 0.07,
  requestedBy: 'cli',
};

let tmp: { dir: string; cleanup: () => void };
let store: Store;
let images: ImageStore;
beforeEach(() => {
  tmp = tempDir();
  store = openStore(path.join(tmp.dir, 'limner.db'));
  images = new ImageStore(store, tmp.dir);
});
afterEach(() => {
  store.close();
  tmp.cleanup();
});

const png = (width = 64, height = 36, colour = '#336699') =>
  sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();

describe('openStore', () => {
  it('applies migrations with WAL, foreign keys and a busy timeout', () => {
    expect(store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    const tables = store.sqlite.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>;
    expect(tables.map((t) => t.name)).toContain('images');
  });

  it('reopens an existing database without reapplying migrations', () => {
    store.close();
    store = openStore(path.join(tmp.dir, 'limner.db'));
    images = new ImageStore(store, tmp.dir);
    expect(images.list(campaignId)).toEqual([]);
  });
});

describe('ImageStore', () => {
  it('writes the PNG under <campaign>/images/<uuid>.png and records it', async () => {
    const bytes = await png();
    const row = await images.save({ png: bytes, width: 64, height: 36 }, meta);
    expect(row.imagePath).toBe(`vault/images/${row.id}.png`);
    expect(readFileSync(path.join(tmp.dir, 'vault', 'images', `${row.id}.png`))).toEqual(bytes);
    expect(images.get(row.id)).toEqual(row);
    expect(images.list(campaignId)).toEqual([row]);
    expect(readdirSync(path.join(tmp.dir, 'vault', 'images'))).toEqual([`${row.id}.png`]);
  });

  it('removes the file when the row cannot be written, so nothing is half-stored', async () => {
    const err = await images
      .save({ png: await png(), width: 64, height: 36 }, { ...meta, parentImageId: 'no-such-parent' })
      .catch((e: unknown) => e);
    expect(String(err)).toMatch(/FOREIGN KEY/);
    expect(readdirSync(path.join(tmp.dir, 'vault', 'images'))).toEqual([]);
    expect(images.list(campaignId)).toEqual([]);
  });

  it('lists only recorded pictures: crash debris (a temporary file, an unrecorded PNG) is not listed', async () => {
    const kept = await images.save({ png: await png(), width: 64, height: 36 }, meta);
    const dir = path.join(tmp.dir, 'vault', 'images');
    writeFileSync(path.join(dir, '.tmp-1234-half.png'), Buffer.from([0x89, 0x50]));
    writeFileSync(path.join(dir, '5b1c7d2e-0000-4000-8000-000000000000.png'), await png());
    expect(images.list(campaignId).map((r) => r.id)).toEqual([kept.id]);
  });

  it('links an edit to its parent and sorts by turn', async () => {
    const parent = await images.save({ png: await png(), width: 64, height: 36 }, { ...meta, turn: 9 });
    const child = await images.save(
      { png: await png(), width: 64, height: 36 },
      { ...meta, turn: 9, mode: 'edit', parentImageId: parent.id },
    );
    const early = await images.save({ png: await png(), width: 64, height: 36 }, { ...meta, turn: 1, requestedBy: '42' });
    expect(images.list(campaignId).map((r) => r.id)).toEqual([early.id, parent.id, child.id]);
    expect(images.list(campaignId, { requestedBy: '42' }).map((r) => r.id)).toEqual([early.id]);
    expect(images.get(child.id)!.parentImageId).toBe(parent.id);
  });
});

describe('normaliseToPng', () => {
  it('keeps a PNG byte for byte', async () => {
    const bytes = await png(100, 50);
    const out = await normaliseToPng(bytes, 1_000_000);
    expect(out).toEqual({ png: bytes, width: 100, height: 50 });
  });

  it('converts JPEG and WebP to PNG', async () => {
    for (const input of [
      await sharp({ create: { width: 40, height: 30, channels: 3, background: '#aa0000' } })
        .jpeg()
        .toBuffer(),
      await sharp({ create: { width: 40, height: 30, channels: 3, background: '#aa0000' } })
        .webp()
        .toBuffer(),
    ]) {
      const out = await normaliseToPng(input, 1_000_000);
      expect((await sharp(out.png).metadata()).format).toBe('png');
      expect([out.width, out.height]).toEqual([40, 30]);
    }
  });

  it('refuses bytes that are not an image, a truncated PNG and an image over the pixel limit', async () => {
    await expect(normaliseToPng(Buffer.from('hello'), 1_000_000)).rejects.toBeInstanceOf(InvalidImageError);
    const whole = await sharp({
      create: { width: 300, height: 300, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } },
    })
      .png()
      .toBuffer();
    await expect(normaliseToPng(whole.subarray(0, whole.length / 2), 1_000_000)).rejects.toBeInstanceOf(InvalidImageError);
    await expect(normaliseToPng(await png(2000, 1000), 1_000_000)).rejects.toThrow(/larger than 1,000,000 pixels/);
  });
});
