import { existsSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { limnerCli } from '../support/cli.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns } from '../support/fixtures.ts';
import { isScanCall, scannerScript } from '../support/scanner-script.ts';

describe('limner recap', () => {
  let emulator: GeminiEmulator;
  let campaigns: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    emulator = await GeminiEmulator.start();
    emulator.onText(scannerScript());
    campaigns = sampleCampaigns();
  });
  afterAll(async () => {
    await emulator.close();
    campaigns.cleanup();
  });

  it('writes the storyboard and the panels of a range, and reads the unchanged range from the cache the second time', async () => {
    const out = path.join(campaigns.dir, 'recap-out');
    const args = ['--json', 'recap', '--campaign', SAMPLE_CAMPAIGN, '--from', '100', '--to', '400', '--panels', '3', '--out', out];
    const first = await limnerCli(args, { campaignsDir: campaigns.dir, geminiUrl: emulator.url });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({ campaignId: SAMPLE_CAMPAIGN, from: 100, to: 400, cachedScan: false });
    expect(result.storyboard).toBe(path.join(out, 'Arrival_at_Kraghammer_recap_turns_100-400.jpg'));
    expect((await sharp(result.storyboard).metadata()).width).toBe(3 * 512 + 4 * 16);
    const turns = result.panels.map((p: { turn: number }) => p.turn);
    expect(turns).toHaveLength(3);
    expect(turns).toEqual([...turns].sort((a: number, b: number) => a - b));
    for (const [i, p] of result.panels.entries()) {
      expect(p).toMatchObject({ mode: 'recap', file: path.join(out, `Arrival_at_Kraghammer_turn_${p.turn}_recap_${i + 1}.png`) });
      expect(p.caption).toMatch(/^[A-Z]+: /);
      expect(existsSync(p.file) && existsSync(p.imagePath)).toBe(true);
    }

    emulator.reset();
    emulator.onText(scannerScript());
    const second = JSON.parse((await limnerCli(args, { campaignsDir: campaigns.dir, geminiUrl: emulator.url })).stdout);
    expect(second.cachedScan).toBe(true);
    expect(second.panels.map((p: { turn: number }) => p.turn)).toEqual(turns);
    expect(emulator.requests.filter(isScanCall)).toEqual([]);
  });

  it('refuses a panel count outside 3-6 before anything is read', async () => {
    const r = await limnerCli(['recap', '--campaign', SAMPLE_CAMPAIGN, '--panels', '7'], { campaignsDir: campaigns.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--panels <k>' argument '7' is invalid\. expected a whole number from 3 to 6/);
  });
});
