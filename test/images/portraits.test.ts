import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CampaignRepository } from '../../src/campaigns/repository.ts';
import { loadPortraits, PortraitError } from '../../src/images/references.ts';
import { LocalPictureStorage } from '../../src/images/local-storage.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { limnerCli } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';

let emulator: GeminiEmulator;
let tmp: { dir: string; cleanup: () => void };
beforeAll(async () => {
  emulator = await GeminiEmulator.start();
});
afterAll(() => emulator.close());
beforeEach(() => {
  tmp = tempDir('limner-portraits-');
  emulator.reset();
});
afterEach(() => tmp.cleanup());

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>';

/** Campaign `keep` in `<tmp>/campaigns`, whose one character, Grog (who speaks), has `reference_image: portrait`. */
function campaignWithPortrait(portrait: string): { campaigns: string; dir: string } {
  const campaigns = path.join(tmp.dir, 'campaigns');
  const dir = path.join(campaigns, 'keep');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'campaign.yaml'),
    `name: Keep\ncharacters:\n  - name: Grog\n    description: a towering goliath\n    reference_image: ${portrait}\n`,
  );
  writeFileSync(path.join(dir, 'transcript.jsonl'), '{"speaker":"Grog","text":"I smash the door."}\n');
  return { campaigns, dir };
}

describe('character portraits get the rules of users’ reference images', () => {
  it('a portrait that resolves outside the campaign folder (through a symlink) is refused with its character, before any model call', async () => {
    const secret = path.join(tmp.dir, 'secret.png');
    writeFileSync(
      secret,
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
        .png()
        .toBuffer(),
    );
    const { campaigns, dir } = campaignWithPortrait('grog.png');
    symlinkSync(secret, path.join(dir, 'grog.png'));
    const out = await limnerCli(['scene', 'current', '--campaign', 'keep'], { campaignsDir: campaigns, geminiUrl: emulator.url });
    expect(out.code).toBe(1);
    expect(out.stderr).toBe('limner: keep/campaign.yaml: the portrait of Grog (reference_image) resolves outside the campaign folder\n');
    expect(emulator.requests).toHaveLength(0);

    // A symlinked folder inside the campaign is fine, and so is the campaigns folder itself being reached through a symlink.
    mkdirSync(path.join(dir, 'art'));
    writeFileSync(path.join(dir, 'art', 'grog.png'), await sharp(secret).png().toBuffer());
    symlinkSync(path.join(dir, 'art'), path.join(dir, 'portraits'));
    const linkedRoot = path.join(tmp.dir, 'linked-campaigns');
    symlinkSync(campaigns, linkedRoot);
    writeFileSync(
      path.join(dir, 'campaign.yaml'),
      'name: Keep\ncharacters:\n  - name: Grog\n    description: d\n    reference_image: portraits/grog.png\n',
    );
    const campaign = await new CampaignRepository(linkedRoot).load('keep');
    expect(campaign.characters[0]!.referenceImage).toBe(path.join(dir, 'art', 'grog.png'));
  });

  it('an SVG portrait is refused naming the character and file, before any model call', async () => {
    const { campaigns, dir } = campaignWithPortrait('grog.svg');
    writeFileSync(path.join(dir, 'grog.svg'), SVG);
    const out = await limnerCli(['scene', 'current', '--campaign', 'keep'], { campaignsDir: campaigns, geminiUrl: emulator.url });
    expect(out.code).toBe(1);
    expect(out.stderr).toBe('limner: The portrait of Grog (grog.svg) is not a PNG, JPEG, WebP or GIF image.\n');
    expect(emulator.requests).toHaveLength(0);
  });

  it('a portrait over generation.max_input_pixels is refused with the limit; one within it is sent', async () => {
    const big = path.join(tmp.dir, 'big.png');
    writeFileSync(
      big,
      await sharp({ create: { width: 1001, height: 1000, channels: 3, background: '#333' } })
        .png()
        .toBuffer(),
    );
    const grog = { name: 'Grog', description: 'd', referenceImage: big };
    const refused = await loadPortraits([grog], 1_000_000, new LocalPictureStorage(tmp.dir)).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(PortraitError);
    expect(refused).toMatchObject({ code: 'portrait_invalid', problem: 'too_many_pixels', limitPixels: 1_000_000, character: 'Grog' });
    expect((refused as Error).message).toBe(
      'The portrait of Grog (big.png) has more than 1,000,000 pixels (width × height), the limit of generation.max_input_pixels.',
    );
    const sent = await loadPortraits([grog], 1_001_000, new LocalPictureStorage(tmp.dir));
    expect(sent).toHaveLength(1);
    expect((await sharp(sent[0]!.data).metadata()).format).toBe('png');
    await expect(loadPortraits([{ ...grog, referenceImage: path.join(tmp.dir, 'none.png') }], 1_000_000, new LocalPictureStorage(tmp.dir))).rejects.toMatchObject({
      problem: 'unreadable',
    });
  });
});
