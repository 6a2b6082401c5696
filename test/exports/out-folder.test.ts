import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { ImageStore } from '../../src/images/store.ts';
import { LocalPictureStorage } from '../../src/images/local-storage.ts';
import { openSqliteStore } from '../../src/platform/db.ts';
import { limnerCli } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';

let tmp: { dir: string; cleanup: () => void };
let campaignsDir: string;

/** A campaigns folder with one campaign, `vault`, holding one stored picture. */
beforeEach(async () => {
  tmp = tempDir('limner-export-');
  campaignsDir = path.join(tmp.dir, 'campaigns');
  mkdirSync(path.join(campaignsDir, 'vault'), { recursive: true });
  writeFileSync(path.join(campaignsDir, 'vault', 'campaign.yaml'), 'name: Vault\n');
  const store = openSqliteStore(path.join(campaignsDir, 'limner.db'));
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123' } })
    .png()
    .toBuffer();
  await new ImageStore(store, new LocalPictureStorage(campaignsDir)).save(
    { png, width: 8, height: 8 },
    {
      campaignId: parseCampaignId('vault'),
      turn: 1,
      mode: 'specific',
      prompt: 'p',
      provider: 'gemini',
      model: 'm',
      textModel: null,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      requestedBy: 'cli',
    },
  );
  store.close();
});
afterEach(() => tmp.cleanup());

const exportTo = (out: string) => limnerCli(['export', '--campaign', 'vault', '--out', out], { campaignsDir, timeoutMs: 30_000 });

describe('limner export --out', () => {
  it('below a regular file: refused naming the file in the way, exit 1', async () => {
    const file = path.join(tmp.dir, 'notes.txt');
    writeFileSync(file, 'x');
    const below = await exportTo(path.join(file, 'zips'));
    expect(below.code).toBe(1);
    expect(below.stderr).toBe(`limner: ${path.join(file, 'zips')}: expected a folder, but ${file} is a file, not a folder.\n`);
    const itself = await exportTo(file);
    expect(itself.code).toBe(1);
    expect(itself.stderr).toBe(`limner: ${file}: expected a folder, but it is a file, not a folder.\n`);
  });

  it.runIf(process.platform === 'linux')(
    'into a pseudo-filesystem (/proc, /sys): refused promptly instead of looping on mkdir',
    async () => {
      for (const out of ['/proc/limner-test/zips', '/sys/limner-test/zips']) {
        const run = await exportTo(out);
        expect(run.code, out).toBe(1);
        expect(run.stderr, out).toMatch(
          new RegExp(`^limner: ${out}: expected a folder, but /\\w+/limner-test cannot be created \\(E[A-Z]+\\)\\.\\n$`),
        );
      }
    },
  );

  it('the next export into a folder removes temporary zips a crashed export left there, once they are stale', async () => {
    const out = path.join(tmp.dir, 'zips');
    mkdirSync(out);
    const stale = '.tmp-00000000-0000-4000-8000-000000000000-Vault_part1.zip';
    const fresh = '.tmp-11111111-1111-4111-8111-111111111111-Vault_part1.zip';
    const foreign = '.tmp-notes';
    for (const name of [stale, fresh, foreign]) writeFileSync(path.join(out, name), 'half a zip');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(path.join(out, stale), hourAgo, hourAgo);
    utimesSync(path.join(out, foreign), hourAgo, hourAgo);
    const run = await exportTo(out);
    expect(run.code).toBe(0);
    const left = readdirSync(out).sort();
    expect(left).not.toContain(stale);
    expect(left).toContain(fresh);
    expect(left).toContain(foreign);
    expect(left.filter((f) => f.endsWith('.zip') && !f.startsWith('.'))).toHaveLength(1);
  });
});
