import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { limnerCli } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';

let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir('limner-doctor-');
});
afterEach(() => tmp.cleanup());

describe('limner doctor', () => {
  it('a missing campaigns folder, or a file in its place, is named; nothing is created', async () => {
    const missing = path.join(tmp.dir, 'nowhere');
    const run = await limnerCli(['doctor'], { campaignsDir: missing });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `limner: The campaigns folder ${missing} does not exist, so there is nothing to check (setting campaigns_dir).\n`,
    );
    expect(existsSync(missing)).toBe(false);

    const file = path.join(tmp.dir, 'campaigns.txt');
    writeFileSync(file, 'x');
    const notFolder = await limnerCli(['doctor', '--fix'], { campaignsDir: file });
    expect(notFolder.code).toBe(1);
    expect(notFolder.stderr).toBe(`limner: The campaigns folder ${file} is a file, not a folder (setting campaigns_dir).\n`);
  });

  it('says what it skipped as too young instead of "clean", and cleans what is old enough', async () => {
    const campaigns = path.join(tmp.dir, 'campaigns');
    mkdirSync(path.join(campaigns, 'vault', 'images'), { recursive: true });
    const young = path.join(campaigns, 'vault', 'images', '.tmp-young.png');
    writeFileSync(young, 'half');
    const onlyYoung = await limnerCli(['doctor'], { campaignsDir: campaigns });
    expect(onlyYoung.code).toBe(0);
    expect(onlyYoung.stdout).toBe(
      'Nothing to clean among the files old enough to check.\n' +
        'Skipped 1 file(s) younger than 10 minutes, which a running bot may still be writing; run again later to check them:\n' +
        '  vault/images/.tmp-young.png\n',
    );

    const old = path.join(campaigns, 'vault', '.tmp-old-campaign.yaml');
    writeFileSync(old, 'half');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(old, hourAgo, hourAgo);
    const fixed = await limnerCli(['doctor', '--fix', '--json'], { campaignsDir: campaigns });
    expect(JSON.parse(fixed.stdout)).toMatchObject({
      tempFiles: ['vault/.tmp-old-campaign.yaml'],
      skipped: ['vault/images/.tmp-young.png'],
      actions: ['deleted temporary file vault/.tmp-old-campaign.yaml'],
    });
    expect([existsSync(old), existsSync(young)]).toEqual([false, true]);
  });
});
