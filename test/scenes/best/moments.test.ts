import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimner, type Limner } from '../../../src/app.ts';
import { MomentCache } from '../../../src/scenes/best/moment-cache.ts';
import { MomentScanner } from '../../../src/scenes/best/moments.ts';
import { ScanTurnError } from '../../../src/scenes/errors.ts';
import { silentLogger } from '../../../src/platform/log.ts';
import { GeminiEmulator } from '../../emulators/gemini/server.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns, testConfig } from '../../support/fixtures.ts';
import { isRetry, isScanCall, momentsReply, scanPurpose } from '../../support/scanner-script.ts';

// The sample campaign is CRD3's C1E001 (CC BY-SA 4.0; see campaigns/kraghammer/ATTRIBUTION.md).
describe('MomentScanner', () => {
  let emulator: GeminiEmulator;
  let campaigns: { dir: string; cleanup: () => void };
  let limner: Limner;
  let scanner: MomentScanner;
  const origin = { userId: 'cli', guildId: null, channelId: null, campaignId: SAMPLE_CAMPAIGN };
  const range = async (from: number, to: number) =>
    (await limner.campaigns.load(SAMPLE_CAMPAIGN)).transcript.entries.filter((e) => e.turn >= from && e.turn <= to);

  beforeAll(async () => {
    emulator = await GeminiEmulator.start();
    campaigns = sampleCampaigns();
    const { config, secrets } = testConfig(campaigns.dir, emulator.url, { generation: { scanner_token_limit: 8000 } });
    limner = await createLimner(config, secrets, silentLogger);
    scanner = new MomentScanner({ config, gateway: limner.gateway, cache: new MomentCache(limner.store), log: silentLogger });
  });
  afterAll(async () => {
    await limner.close();
    await emulator.close();
    campaigns.cleanup();
  });

  it('reads a short range in one call, and asks again when the answer has the wrong number of moments', async () => {
    emulator.reset();
    let first = true;
    emulator.onText((r) => {
      if (!isScanCall(r)) return undefined;
      if (first) {
        first = false;
        return JSON.stringify({ moments: [{ turn: 20, caption: 'only one' }], recap: 'Short.' });
      }
      return momentsReply(r);
    });
    const board = await scanner.storyboard(await range(10, 60), 3, origin);
    expect(board.moments).toHaveLength(3);
    expect(board.moments.map((m) => m.turn)).toEqual([...board.moments.map((m) => m.turn)].sort((a, b) => a - b));
    expect(emulator.requests.map((q) => [scanPurpose(q), isRetry(q)])).toEqual([
      ['moments', false],
      ['moments', true],
    ]);
    expect(board.cached).toBe(false);
    expect((await scanner.storyboard(await range(10, 60), 3, origin)).cached).toBe(true);
  });

  it('refuses after a second answer naming a turn outside the range', async () => {
    emulator.reset();
    emulator.onText((r) =>
      isScanCall(r)
        ? JSON.stringify({
            moments: [
              { turn: 1, caption: 'a' },
              { turn: 2, caption: 'b' },
              { turn: 3, caption: 'c' },
            ],
            recap: 'x',
          })
        : undefined,
    );
    await expect(scanner.storyboard(await range(100, 150), 3, origin)).rejects.toThrow(ScanTurnError);
    await expect(scanner.storyboard(await range(100, 150), 3, origin)).rejects.toThrow(/so no recap was chosen/);
  });
});
