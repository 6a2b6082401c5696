import { InvalidImageError } from '../../src/images/errors.ts';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { normaliseToPng } from '../../src/images/normalise.ts';
import { checkPngChunks } from '../../src/images/png.ts';
import { ImageStore, type NewImage } from '../../src/images/store.ts';
import { LocalPictureStorage } from '../../src/images/local-storage.ts';
import { DeletePicture } from '../../src/images/delete.ts';
import { ImageGoneError } from '../../src/edits/errors.ts';
import { SessionStore } from '../../src/edits/sessions.ts';
import { LinkStore } from '../../src/campaigns/links.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { openSqliteStore } from '../../src/platform/db.ts';
import { openTempImageStore, type TempImageStore } from '../support/fixtures.ts';

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

let t: TempImageStore;
beforeEach(() => {
  t = openTempImageStore();
});
afterEach(() => t.close());

const png = (width = 64, height = 36, colour = '#336699') =>
  sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();

describe('openSqliteStore', () => {
  it('applies migrations with WAL, foreign keys and a busy timeout', () => {
    expect(t.store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(t.store.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(t.store.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    const tables = t.store.sqlite.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>;
    expect(tables.map((t) => t.name)).toContain('images');
  });

  it('reopens an existing database without reapplying migrations', () => {
    const again = openSqliteStore(path.join(t.dir, 'limner.db'));
    try {
      expect(new ImageStore(again, new LocalPictureStorage(t.dir)).list(campaignId)).toEqual([]);
    } finally {
      again.close();
    }
  });
});

describe('ImageStore', () => {
  it('writes the PNG under <campaign>/images/<uuid>.png and records it', async () => {
    const bytes = await png();
    const row = await t.images.save({ png: bytes, width: 64, height: 36 }, meta);
    expect(row.imagePath).toBe(`vault/images/${row.id}.png`);
    expect(readFileSync(path.join(t.dir, 'vault', 'images', `${row.id}.png`))).toEqual(bytes);
    expect(t.images.get(row.id)).toEqual(row);
    expect(t.images.list(campaignId)).toEqual([row]);
    expect(readdirSync(path.join(t.dir, 'vault', 'images'))).toEqual([`${row.id}.png`]);
  });

  it('removes the file when the row cannot be written, so nothing is half-stored', async () => {
    const err = await t.images
      .save({ png: await png(), width: 64, height: 36 }, { ...meta, parentImageId: 'no-such-parent' })
      .catch((e: unknown) => e);
    expect(String(err)).toMatch(/FOREIGN KEY/);
    expect(readdirSync(path.join(t.dir, 'vault', 'images'))).toEqual([]);
    expect(t.images.list(campaignId)).toEqual([]);
  });

  it('lists only recorded pictures: crash debris (a temporary file, an unrecorded PNG) is not listed', async () => {
    const kept = await t.images.save({ png: await png(), width: 64, height: 36 }, meta);
    const dir = path.join(t.dir, 'vault', 'images');
    writeFileSync(path.join(dir, '.tmp-1234-half.png'), Buffer.from([0x89, 0x50]));
    writeFileSync(path.join(dir, '5b1c7d2e-0000-4000-8000-000000000000.png'), await png());
    expect(t.images.list(campaignId).map((r) => r.id)).toEqual([kept.id]);
  });

  it('links an edit to its parent and sorts by turn', async () => {
    const parent = await t.images.save({ png: await png(), width: 64, height: 36 }, { ...meta, turn: 9 });
    const child = await t.images.save(
      { png: await png(), width: 64, height: 36 },
      { ...meta, turn: 9, mode: 'edit', parentImageId: parent.id },
    );
    const early = await t.images.save({ png: await png(), width: 64, height: 36 }, { ...meta, turn: 1, requestedBy: '42' });
    expect(t.images.list(campaignId).map((r) => r.id)).toEqual([early.id, parent.id, child.id]);
    expect(t.images.list(campaignId, { requestedBy: '42' }).map((r) => r.id)).toEqual([early.id]);
    expect(t.images.get(child.id)!.parentImageId).toBe(parent.id);
  });

  it('hides deleted pictures and keeps cast portraits out of scene lists; a portrait cannot be deleted on its own', async () => {
    const portrait = await t.images.save(
      { png: await png(), width: 64, height: 36 },
      { ...meta, turn: 0, mode: 'portrait', requestedBy: '42' },
    );
    const scene = await t.images.save({ png: await png(), width: 64, height: 36 }, { ...meta, requestedBy: '42' });
    const panel = await t.images.save({ png: await png(), width: 64, height: 36 }, { ...meta, turn: 4, mode: 'recap', requestedBy: '42' });
    const deletions = new DeletePicture({
      images: t.images,
      sessions: new SessionStore(t.store),
      links: new LinkStore(t.store, []),
      log: silentLogger,
      trashDays: 7,
    });
    expect(t.images.latestOf(campaignId, '42')!.id).toBe(panel.id);
    expect(() => deletions.allowed({ target: { kind: 'image', imageId: portrait.id }, userId: '42', moderator: true })).toThrow(
      ImageGoneError,
    );

    await deletions.delete({ target: { kind: 'latest', campaignId }, userId: '42', moderator: false });
    expect(t.images.get(panel.id)).toBeUndefined();
    expect(t.images.list(campaignId).map((r) => r.id)).toEqual([scene.id]);
    expect(t.images.countByCampaign()).toEqual([{ campaignId, count: 1 }]);
    expect(t.images.latestOf(campaignId, '42')!.id).toBe(scene.id);
    // The portrait stays the cast's, live and readable by id.
    expect(t.images.get(portrait.id)!.mode).toBe('portrait');
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

  it('refuses a PNG with a corrupted chunk or no end, naming the fault', async () => {
    const whole = await png(120, 80);
    const flipped = Buffer.from(whole);
    const inLastIdat = whole.length - 20; // its CRC no longer matches
    flipped.writeUInt8(flipped.readUInt8(inLastIdat) ^ 0xff, inLastIdat);
    await expect(normaliseToPng(flipped, 1_000_000)).rejects.toThrow(/IDAT chunk is corrupted/);
    await expect(normaliseToPng(whole.subarray(0, whole.length - 12), 1_000_000)).rejects.toThrow(/cut short/);
    expect(checkPngChunks(whole)).toEqual({ width: 120, height: 80 });
  });
});
