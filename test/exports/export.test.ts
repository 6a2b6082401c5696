import { VAULT_SCENE } from '../support/images.ts';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { galleryPage, gallerySheet, tileLabel } from '../../src/images/gallery.ts';
import {
  ExportLimitTooSmallError,
  ImageFileMissingError,
  MANIFEST_NAME,
  NoImagesToExportError,
  planExport,
  writeExport,
  zipPartBuffer,
  type ExportPlan,
  type Manifest,
} from '../../src/exports/export.ts';
import { dedupeNames, exportZipName, safeCampaignName } from '../../src/exports/names.ts';
import { STORYBOOK_NAME } from '../../src/exports/storybook.ts';
import { type NewImage } from '../../src/images/store.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import { openTempImageStore, ROOT, type TempImageStore } from '../support/fixtures.ts';

const vault = parseCampaignId('vault');
const campaign = { id: vault, name: 'The Vault of Ages' };
const base: NewImage = { ...VAULT_SCENE, turn: 1 };

/** A PNG of random pixels: it does not compress, so its size is about width x height x 3 bytes. */
async function noisePng(width: number, height: number): Promise<{ png: Buffer; width: number; height: number }> {
  const png = await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return { png, width, height };
}

let t: TempImageStore;
beforeEach(() => {
  t = openTempImageStore();
});
afterEach(() => t.close());

async function seed(specs: Array<Partial<NewImage> & { size?: [number, number] }>): Promise<ImageRow[]> {
  const rows: ImageRow[] = [];
  for (const spec of specs) {
    const [w, h] = spec.size ?? [96, 54];
    rows.push(await t.images.save(await noisePng(w, h), { ...base, ...spec }));
  }
  return t.images.list(vault);
}

const plan = (rows: readonly ImageRow[], maxPartBytes?: number) =>
  planExport({ campaign, images: rows, storage: t.images.storage, ...(maxPartBytes ? { maxPartBytes } : {}) });

/** Builds every part in memory and reads it back. */
async function unzipAll(p: ExportPlan) {
  const out = [];
  for (const part of p.parts) {
    const data = await zipPartBuffer(part);
    const zip = await JSZip.loadAsync(data, { checkCRC32: true });
    const manifest = JSON.parse(await zip.file(MANIFEST_NAME)!.async('string')) as Manifest;
    out.push({ part, data, zip, manifest, names: Object.keys(zip.files) });
  }
  return out;
}

describe('export names', () => {
  it('numbers repeats _2, _3 in order and never reuses a name', () => {
    expect(dedupeNames(['a', 'b', 'a', 'a', 'b'])).toEqual(['a', 'b', 'a_2', 'a_3', 'b_2']);
    expect(dedupeNames(['a', 'a', 'a_2'])).toEqual(['a', 'a_3', 'a_2']);
  });

  it('names one zip {campaign}_images.zip and parts {campaign}_images_part{k}of{n}.zip', () => {
    expect(exportZipName('The_Vault', 1, 1)).toBe('The_Vault_images.zip');
    expect(exportZipName('The_Vault', 3, 9)).toBe('The_Vault_images_part3of9.zip');
  });

  it('makes campaign names ASCII-safe per seed 002', () => {
    expect(safeCampaignName('Curse of Strahd: Part 2!', 'cos')).toBe('Curse_of_Strahd_Part_2');
    expect(safeCampaignName('Élan vital', 'x')).toBe('Elan_vital');
    expect(safeCampaignName('龍の洞窟', 'dragon')).toBe('campaign_dragon');
    expect(safeCampaignName('a'.repeat(80), 'x')).toHaveLength(50);
  });
});

describe('planExport and zipPartBuffer', () => {
  it('packs everything in one stored zip with seed names, _2 suffixes, the manifest and byte-identical PNGs', async () => {
    const rows = await seed([
      { turn: 12, mode: 'current' },
      { turn: 3 },
      { turn: 12, mode: 'current', requestedBy: '3100' },
      { turn: 12, mode: 'current' },
    ]);
    const edited = await t.images.save(await noisePng(64, 36), {
      ...base,
      turn: 3,
      mode: 'edit',
      parentImageId: rows[0]!.id,
      textModel: null,
    });
    const all = await t.images.list(vault);
    const p = await plan(all);
    expect(p.parts).toHaveLength(1);
    expect(p.parts[0]!.name).toBe('The_Vault_of_Ages_images.zip');
    const { part, data, zip, manifest, names } = (await unzipAll(p))[0]!;
    expect(data.byteLength).toBe(part.bytes);
    expect(names).toEqual([
      'The_Vault_of_Ages_turn_3_specific.png',
      'The_Vault_of_Ages_turn_3_edit.png',
      'The_Vault_of_Ages_turn_12_current.png',
      'The_Vault_of_Ages_turn_12_current_2.png',
      'The_Vault_of_Ages_turn_12_current_3.png',
      STORYBOOK_NAME,
      MANIFEST_NAME,
    ]);
    for (const [i, row] of all.entries()) {
      const png = readFileSync(t.images.location(row.imagePath));
      expect(await zip.file(names[i]!)!.async('nodebuffer')).toEqual(png);
      // Dated when it was drawn, in UTC, to the 2 s a zip's DOS time can hold.
      expect(zip.file(names[i]!)!.date.getTime()).toBe(Math.floor(Date.parse(row.createdAt) / 2000) * 2000);
      // Stored, not deflated: the PNG's bytes sit in the zip as they are.
      expect(data.indexOf(png)).toBeGreaterThan(0);
    }
    expect(manifest.campaign).toEqual(campaign);
    expect(manifest.images.map((m) => m.file)).toEqual(names.slice(0, -2));
    expect(manifest.images[1]).toEqual({
      file: 'The_Vault_of_Ages_turn_3_edit.png',
      id: edited.id,
      turn: 3,
      mode: 'edit',
      prompt: base.prompt,
      model: base.model,
      textModel: null,
      creator: 'cli',
      createdAt: edited.createdAt,
      parent: { id: rows[0]!.id, file: 'The_Vault_of_Ages_turn_3_specific.png' },
      width: 64,
      height: 36,
      bytes: edited.bytes,
      format: 'png',
    });
    expect(manifest.images[3]!.creator).toBe('3100');
    expect(await zip.file(MANIFEST_NAME)!.async('string')).toBe(`${JSON.stringify(manifest, null, 2)}\n`);
  });

  it('splits into parts under the limit in turn order, each exactly its planned size', async () => {
    const rows = await seed(Array.from({ length: 9 }, (_, i) => ({ turn: i + 1 })));
    const limit = 3 * rows[0]!.bytes + 2_000;
    const p = await plan(rows, limit);
    expect(p.parts.length).toBeGreaterThanOrEqual(3);
    const read = await unzipAll(p);
    const files = read.flatMap((r) => r.manifest.images.map((m) => m.file));
    expect(files).toEqual(rows.map((r) => `The_Vault_of_Ages_turn_${r.turn}_specific.png`));
    for (const [k, r] of read.entries()) {
      expect(r.part.name).toBe(`The_Vault_of_Ages_images_part${k + 1}of${p.parts.length}.zip`);
      expect(r.data.byteLength).toBe(r.part.bytes);
      expect(r.data.byteLength).toBeLessThanOrEqual(limit);
      expect(r.names).toEqual([...r.manifest.images.map((m) => m.file), STORYBOOK_NAME, MANIFEST_NAME]);
    }
    expect(p.bytes).toBe(read.reduce((s, r) => s + r.data.byteLength, 0));
  });

  it('puts a picture too large for any zip in as a JPEG with a note, keeping the PNG', async () => {
    const rows = await seed([{ turn: 1 }, { turn: 2, size: [400, 300] }, { turn: 3 }]);
    const big = rows[1]!;
    const limit = 120_000;
    expect(big.bytes).toBeGreaterThan(limit);
    const p = await plan(rows, limit);
    expect(p.converted).toBe(1);
    const read = await unzipAll(p);
    const all = read.flatMap((r) => r.manifest.images);
    const entry = all.find((m) => m.id === big.id)!;
    expect(entry).toMatchObject({
      file: 'The_Vault_of_Ages_turn_2_specific.jpg',
      format: 'jpeg',
      original: { format: 'png', width: 400, height: 300, bytes: big.bytes },
    });
    expect(entry.note).toMatch(
      /^The PNG \(0\.\d MB\) is larger than the 0\.1 MB limit of each zip, so it is included as a JPEG; the original PNG is kept on the server\.$/,
    );
    const holder = read.find((r) => r.manifest.images.includes(entry))!;
    const jpeg = await holder.zip.file(entry.file)!.async('nodebuffer');
    expect(jpeg.byteLength).toBe(entry.bytes);
    expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
    for (const r of read) expect(r.data.byteLength).toBeLessThanOrEqual(limit);
    expect(statSync(t.images.location(big.imagePath)).size).toBe(big.bytes);
  });

  it('refuses an empty campaign, a missing file and a limit nothing fits in', async () => {
    await expect(plan([])).rejects.toThrow(NoImagesToExportError);
    await expect(plan([])).rejects.toThrow('No pictures to download.');
    const rows = await seed([{ turn: 1 }, { turn: 2 }]);
    await expect(plan(rows, 600)).rejects.toThrow(ExportLimitTooSmallError);
    rmSync(t.images.location(rows[1]!.imagePath));
    await expect(plan(rows)).rejects.toThrow(ImageFileMissingError);
  });

  it('writeExport streams the zips into a folder with nothing temporary left behind', async () => {
    const rows = await seed(Array.from({ length: 5 }, (_, i) => ({ turn: 10 - i })));
    // Room for two pictures and the storybook page, not three.
    const p = await plan(rows, 2 * rows[0]!.bytes + 10_000);
    const out = path.join(t.dir, 'out');
    const progress: string[] = [];
    const files = await writeExport(p, out, { onProgress: (e) => progress.push(`${e.packed}/${e.total} ${e.part}/${e.parts}`) });
    expect(readdirSync(out).sort()).toEqual(p.parts.map((x) => x.name).sort());
    expect(files.map((f) => statSync(f).size)).toEqual(p.parts.map((x) => x.bytes));
    expect(progress.at(-1)).toMatch(/^5\/5 \d\/3$/);
    const zip = await JSZip.loadAsync(readFileSync(files[0]!));
    expect(Object.keys(zip.files)).toEqual([
      'The_Vault_of_Ages_turn_6_specific.png',
      'The_Vault_of_Ages_turn_7_specific.png',
      STORYBOOK_NAME,
      MANIFEST_NAME,
    ]);
  });
});

describe('gallery', () => {
  it('pages pictures and clamps the page', async () => {
    const rows = await seed(Array.from({ length: 14 }, (_, i) => ({ turn: i + 1 })));
    expect(galleryPage(rows, 1)).toMatchObject({ page: 1, pages: 2, total: 14 });
    expect(galleryPage(rows, 9).images.map((r) => r.turn)).toEqual([13, 14]);
    expect(galleryPage([], 3)).toMatchObject({ page: 1, pages: 1, total: 0, images: [] });
    expect(tileLabel({ turn: 1500, mode: 'specific' })).toBe('Turn 1,500 · specific');
  });

  it('draws a labelled 4-column contact sheet, with a placeholder for a missing file', async () => {
    const rows = await seed(Array.from({ length: 5 }, (_, i) => ({ turn: i + 1 })));
    rmSync(t.images.location(rows[4]!.imagePath));
    const sheet = await gallerySheet(galleryPage(rows, 1), (r) => t.images.read(r), 40_000_000);
    expect([sheet.width, sheet.height]).toEqual([4 * 320 + 5 * 12, 2 * (180 + 30) + 3 * 12]);
    const meta = await sharp(sheet.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', sheet.width, sheet.height]);
    // The caption band under the first thumbnail holds light text on the dark background.
    const band = await sharp(sheet.data)
      .extract({ left: 12, top: 12 + 180, width: 320, height: 30 })
      .stats();
    expect(band.channels[0]!.max).toBeGreaterThan(180);
  });
});

describe('limner export', () => {
  it('writes one zip without a limit and parts with --max-part-bytes', async () => {
    const rows = await seed([{ turn: 2 }, { turn: 1 }, { turn: 2 }]);
    t.store.close();
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, LIMNER_CAMPAIGNS_DIR: t.dir, LIMNER_CONFIG: path.join(ROOT, 'test/support/test-config.yaml') },
      });
    const one = await run('export', '--campaign', 'vault', '--out', path.join(t.dir, 'one'));
    expect(one.stdout).toMatch(
      /^.+campaign_vault_images\.zip \(3 pictures, [\d.]+ MB\)\nExported 3 pictures into 1 zip \([\d.]+ MB\)\.\n$/,
    );
    const zip = await JSZip.loadAsync(readFileSync(path.join(t.dir, 'one', 'campaign_vault_images.zip')));
    expect(Object.keys(zip.files)).toEqual([
      'campaign_vault_turn_1_specific.png',
      'campaign_vault_turn_2_specific.png',
      'campaign_vault_turn_2_specific_2.png',
      STORYBOOK_NAME,
      MANIFEST_NAME,
    ]);

    const parts = await run(
      '--json',
      'export',
      '--campaign',
      'vault',
      '--out',
      path.join(t.dir, 'parts'),
      '--max-part-bytes',
      String(rows[0]!.bytes + 10_000),
    );
    const lines = parts.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; bytes: number; images: number });
    expect(lines.map((l) => path.basename(l.file))).toEqual([
      'campaign_vault_images_part1of3.zip',
      'campaign_vault_images_part2of3.zip',
      'campaign_vault_images_part3of3.zip',
    ]);
    for (const l of lines) expect(statSync(l.file).size).toBe(l.bytes);

    const empty = await run('export', '--campaign', 'nothing', '--out', path.join(t.dir, 'none')).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(empty).toMatchObject({ code: 1, stderr: 'limner: No pictures to download.\n' });
  });
});
