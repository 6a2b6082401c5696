import { ConfigError } from '../../src/platform/errors.ts';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CampaignRepository } from '../../src/campaigns/repository.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { limnerCli } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';

let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir('limner-files-');
});
afterEach(() => tmp.cleanup());

/** A campaign folder `id` with these files; a value of `null` makes a folder of that name instead. */
function campaign(id: string, files: Record<string, string | null>): string {
  const dir = path.join(tmp.dir, id);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    if (text === null) mkdirSync(path.join(dir, name));
    else writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const TRANSCRIPT = '{"speaker":"MATT","text":"The gates open."}\n';

/** Nine anchors, each aliasing the one before nine times: 9^9 strings if expanded. */
function aliasBomb(): string {
  const lines = ['name: bomb', 'x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) lines.push(`x${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

describe('a folder where a campaign file is expected', () => {
  it('campaign.yaml or the transcript being a folder is refused naming the path, with exit code 1', async () => {
    campaign('yaml-dir', { 'campaign.yaml': null, 'transcript.jsonl': TRANSCRIPT });
    const yaml = await limnerCli(['scene', 'current', '--campaign', 'yaml-dir'], { campaignsDir: tmp.dir });
    expect(yaml.code).toBe(1);
    expect(yaml.stderr).toBe(`limner: yaml-dir/campaign.yaml: expected a file, but this is a folder\n`);

    campaign('transcript-dir', { 'campaign.yaml': 'name: T\n', 'transcript.jsonl': null });
    const transcript = await limnerCli(['scene', 'turn', '1', '--campaign', 'transcript-dir'], { campaignsDir: tmp.dir });
    expect(transcript.code).toBe(1);
    expect(transcript.stderr).toBe(`limner: transcript-dir/transcript.jsonl: expected a file, but this is a folder\n`);
    expect(readdirSync(path.join(tmp.dir, 'transcript-dir')).sort()).toEqual(['campaign.yaml', 'transcript.jsonl']);
  });

  it('a CRD3 episode that is a folder is refused without creating the campaign', async () => {
    mkdirSync(path.join(tmp.dir, 'episode.json'));
    const out = await limnerCli(['import', 'crd3', path.join(tmp.dir, 'episode.json'), '--campaign', 'new-one'], { campaignsDir: tmp.dir });
    expect(out.code).toBe(1);
    expect(out.stderr).toBe(`limner: ${path.join(tmp.dir, 'episode.json')}: expected a CRD3 episode file, but this is a folder\n`);
    expect(readdirSync(tmp.dir).filter((f) => f !== 'limner.db' && !f.startsWith('limner.db-'))).toEqual(['episode.json']);
  });
});

describe('YAML the parser refuses for its own safety', () => {
  it('an alias bomb and an alias without anchor read as a malformed campaign.yaml, not an unexpected error', async () => {
    campaign('bomb', { 'campaign.yaml': aliasBomb(), 'transcript.jsonl': TRANSCRIPT });
    const bomb = await limnerCli(['scene', 'current', '--campaign', 'bomb'], { campaignsDir: tmp.dir });
    expect(bomb.code).toBe(1);
    expect(bomb.stderr).toMatch(/^limner: bomb\/campaign\.yaml: YAML refused: Excessive alias count .*\n$/);

    campaign('dangling', { 'campaign.yaml': 'name: *nowhere\n', 'transcript.jsonl': TRANSCRIPT });
    const dangling = await limnerCli(['scene', 'current', '--campaign', 'dangling'], { campaignsDir: tmp.dir });
    expect(dangling.code).toBe(1);
    expect(dangling.stderr).toMatch(/^limner: dangling\/campaign\.yaml: .*nowhere.*\n$/);
    expect(dangling.stderr).not.toMatch(/unexpected error|\n {4}at /);
  });

  it('campaigns list names such campaigns as invalid instead of failing', async () => {
    campaign('bomb', { 'campaign.yaml': aliasBomb(), 'transcript.jsonl': TRANSCRIPT });
    campaign('fine', { 'campaign.yaml': 'name: Fine\n', 'transcript.jsonl': TRANSCRIPT });
    const repo = new CampaignRepository(tmp.dir);
    expect(await repo.list()).toEqual([
      { id: 'bomb', name: '(invalid campaign.yaml)' },
      { id: 'fine', name: 'Fine' },
    ]);
    await expect(repo.load('bomb')).rejects.toMatchObject({ code: 'campaign_file_invalid', file: 'bomb/campaign.yaml' });
  });

  it('the configuration file gets the same treatment: a ConfigError naming the file', () => {
    const file = path.join(tmp.dir, 'local.yaml');
    writeFileSync(file, aliasBomb().replace('name: bomb', 'log:\n  level: info'));
    const err = (() => {
      try {
        loadConfig({ localFile: file, env: {} });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([expect.stringMatching(new RegExp(`^${file}: YAML refused: Excessive alias count`))]);
  });
});
