import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { limnerCli } from '../support/cli.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns } from '../support/fixtures.ts';

let emulator: GeminiEmulator;
let campaigns: { dir: string; cleanup: () => void };
beforeAll(async () => {
  emulator = await GeminiEmulator.start();
  campaigns = sampleCampaigns();
});
afterAll(async () => {
  await emulator.close();
  campaigns.cleanup();
});

const cli = (...args: string[]) => limnerCli(args, { campaignsDir: campaigns.dir, geminiUrl: emulator.url });

describe('CLI options take the ranges of the bot and the config', () => {
  it('--context is a whole number from 1 to 50, like /scene current', async () => {
    for (const value of ['0', '51', '1000000', '1e3', '4.0', '-1', 'abc']) {
      const out = await cli('scene', 'current', '--campaign', SAMPLE_CAMPAIGN, '--context', value);
      expect(out.code, value).not.toBe(0);
      expect(out.stderr, value).toContain(`option '--context <n>' argument '${value}' is invalid. expected a whole number from 1 to 50`);
    }
    expect(emulator.requests).toHaveLength(0);
  });

  it('turn numbers are plain decimal integers: 0x10, 1e3, 16.0 and " 16" are not turn 16', async () => {
    for (const value of ['0x10', '1e3', '16.0', ' 16', '16 ', '+16', '0', '9007199254740993']) {
      const out = await cli('scene', 'turn', value, '--campaign', SAMPLE_CAMPAIGN);
      expect(out.code, value).not.toBe(0);
      expect(out.stderr, value).toContain(
        `'${value}' is invalid for argument 'n'. expected a whole number of at least 1, in decimal digits only.`,
      );
    }
    expect(emulator.requests).toHaveLength(0);
  });

  it('--max-part-bytes is a positive whole number', async () => {
    for (const value of ['0', '-5', '1.5', '1e9', '10MB']) {
      const out = await cli('export', '--campaign', SAMPLE_CAMPAIGN, '--out', path.join(campaigns.dir, 'zips'), '--max-part-bytes', value);
      expect(out.code, value).not.toBe(0);
      expect(out.stderr, value).toContain(
        `option '--max-part-bytes <n>' argument '${value}' is invalid. expected a whole number of at least 1`,
      );
    }
    expect(existsSync(path.join(campaigns.dir, 'zips'))).toBe(false);
  });

  it('import crd3 --name takes what campaign.yaml takes, naming the option and the limit, and writes nothing', async () => {
    const episode = path.join(campaigns.dir, 'episode.json');
    writeFileSync(episode, JSON.stringify({ TURNS: [{ NAMES: ['MATT'], UTTERANCES: ['Hello.'], NUMBER: 0 }] }));
    const empty = await cli('import', 'crd3', episode, '--campaign', 'named', '--name', '');
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toContain(`option '--name <name>' argument '' is invalid. expected a name with at least one visible character.`);
    const long = await cli('import', 'crd3', episode, '--campaign', 'named', '--name', 'x'.repeat(500));
    expect(long.code).not.toBe(0);
    expect(long.stderr).toContain('is invalid. expected at most 100 characters (this one has 500).');
    expect(long.stderr).not.toMatch(/ZodError|too_big/);
    expect(existsSync(path.join(campaigns.dir, 'named'))).toBe(false);

    const fine = await cli('import', 'crd3', episode, '--campaign', 'named', '--name', 'x'.repeat(100));
    expect(fine.code).toBe(0);
  });
});
