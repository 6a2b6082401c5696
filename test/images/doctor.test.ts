import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { checkImageStore } from '../../src/images/doctor.ts';
import { openTestImageStore, type TestImageStore } from '../support/images.ts';
import { describeEachDialect } from '../support/postgres.ts';

const meta = {
  campaignId: parseCampaignId('vault'),
  turn: 1,
  mode: 'specific' as const,
  prompt: 'p',
  provider: 'gemini',
  model: 'm',
  textModel: null,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  requestedBy: 'cli',
};

describeEachDialect('checkImageStore', (dialect) => {
  let t: TestImageStore;
  beforeEach(async () => {
    t = await openTestImageStore(dialect);
  });
  afterEach(() => t.close());

  it('reports nothing on a clean store', async () => {
    await t.images.save(
      {
        png: await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
          .png()
          .toBuffer(),
        width: 8,
        height: 8,
      },
      meta,
    );
    expect(await checkImageStore(t.store, t.dir, { fix: true, minAgeMs: 0 })).toEqual({
      tempFiles: [],
      unrecordedImages: [],
      missingFiles: [],
      skipped: [],
      minAgeMs: 0,
      actions: [],
    });
  });

  it('finds each kind of debris; --fix deletes temporary files, keeps unrecorded pictures in lost+found and never touches rows', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const kept = await t.images.save({ png, width: 8, height: 8 }, meta);
    const gone = await t.images.save({ png, width: 8, height: 8 }, meta);
    rmSync(t.images.location(gone.imagePath));
    const dir = path.join(t.dir, 'vault', 'images');
    writeFileSync(path.join(dir, '.tmp-aaaa-x.png'), 'half');
    writeFileSync(path.join(t.dir, 'vault', '.tmp-bbbb-campaign.yaml'), 'half');
    const orphan = '0f0f0f0f-0000-4000-8000-000000000000.png';
    writeFileSync(path.join(dir, orphan), png);
    mkdirSync(path.join(t.dir, 'not a campaign'));
    writeFileSync(path.join(t.dir, 'not a campaign', '.tmp-zzz'), 'x');

    // Fresh files may be writes in progress: by default they are not debris yet.
    expect((await checkImageStore(t.store, t.dir)).tempFiles).toEqual([]);
    const report = await checkImageStore(t.store, t.dir, { minAgeMs: 0 });
    expect(report.tempFiles).toEqual(['vault/.tmp-bbbb-campaign.yaml', 'vault/images/.tmp-aaaa-x.png']);
    expect(report.unrecordedImages).toEqual([`vault/images/${orphan}`]);
    expect(report.missingFiles).toEqual([{ imageId: gone.id, imagePath: gone.imagePath }]);
    expect(report.actions).toEqual([]);
    expect(existsSync(path.join(dir, orphan))).toBe(true);

    const fixed = await checkImageStore(t.store, t.dir, { fix: true, minAgeMs: 0 });
    expect(fixed.actions).toHaveLength(3);
    expect(readdirSync(dir).sort()).toEqual([`${kept.id}.png`, 'lost+found']);
    expect(readdirSync(path.join(dir, 'lost+found'))).toEqual([orphan]);
    expect(await t.images.get(gone.id)).toBeDefined();
    const again = await checkImageStore(t.store, t.dir, { minAgeMs: 0 });
    expect([again.tempFiles, again.unrecordedImages]).toEqual([[], []]);
    expect(again.missingFiles).toHaveLength(1);
  });
});
