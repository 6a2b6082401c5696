import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { limnerCli } from '../support/cli.ts';
import { CRD3_DIR, SAMPLE_CAMPAIGN, sampleCampaigns } from '../support/fixtures.ts';

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

/** Runs the real CLI with the emulator as Gemini. */
const limner = (...args: string[]) => limnerCli(args, { campaignsDir: campaigns.dir, geminiUrl: emulator.url });

describe('limner CLI', () => {
  it('scene turn 1500 --json writes a 16:9 PNG and a row, and images list shows it', async () => {
    const out = await limner('scene', 'turn', '1500', '--campaign', SAMPLE_CAMPAIGN, '--json');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      campaignId: SAMPLE_CAMPAIGN,
      turn: 1500,
      mode: 'specific',
      model: 'gemini-3.1-flash-image',
      width: 1376,
      height: 768,
    });
    expect(result.imagePath).toBe(path.join(campaigns.dir, SAMPLE_CAMPAIGN, 'images', `${String(result.imageId)}.png`));
    const meta = await sharp(result.imagePath as string).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1376, 768]);
    const textCall = emulator.requests.find((r) => r.model === 'gemini-3.5-flash')!;
    expect(JSON.stringify(textCall.body)).toContain('[Turn 1500] LIAM:');
    const imageCall = emulator.requests.find((r) => r.model === 'gemini-3.1-flash-image')!;
    expect(imageCall.body.contents[0].parts[0].text).toBe(result.prompt);

    const listed = await limner('images', 'list', '--campaign', SAMPLE_CAMPAIGN, '--json');
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).imageId),
    ).toEqual([result.imageId]);
  });

  it('prints a human summary by default', async () => {
    const out = await limner('scene', 'current', '--campaign', SAMPLE_CAMPAIGN, '--context', '4');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(
      /^Turn 2,160 · Arrival at Kraghammer \(current\)\nPrompt: .+\nImage: {2}.+\.png \(1376x768, \d+ KiB\)\nModel: {2}gemini-3.1-flash-image · est\. \$0\.0\d+ · id [0-9a-f-]{36}\n$/,
    );
  });

  it('exits non-zero with the user-facing message on stderr', async () => {
    const out = await limner('scene', 'turn', '9999', '--campaign', SAMPLE_CAMPAIGN);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe('limner: Turn 9999 is out of range: this campaign has turns 1-2160.\n');
    const bad = await limner('scene', 'current', '--campaign', '../etc');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/is not a valid campaign id/);
    const usage = await limner('scene', 'turn', 'abc', '--campaign', SAMPLE_CAMPAIGN);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toMatch(/expected a whole number/);
  });

  it('imports a CRD3 episode as a campaign and lists it', async () => {
    const out = await limner('import', 'crd3', path.join(CRD3_DIR, 'C2E030.json'), '--campaign', 'journey-home');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Imported "The Journey Home" as journey-home: 300 turns \(1-300\)/);
    const again = await limner('import', 'crd3', path.join(CRD3_DIR, 'C2E030.json'), '--campaign', 'journey-home');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    const list = await limner('campaigns', 'list', '--json');
    expect(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { id: 'journey-home', name: 'The Journey Home' },
      { id: SAMPLE_CAMPAIGN, name: 'Arrival at Kraghammer' },
    ]);
  });
});
