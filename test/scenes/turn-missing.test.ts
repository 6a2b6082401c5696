import { TurnMissingError, TurnOutOfRangeError } from '../../src/scenes/errors.ts';
import { by } from '../support/requests.ts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLimner, type Limner } from '../../src/app.ts';
import type { Transcript } from '../../src/campaigns/transcript.ts';
import { turnContext } from '../../src/scenes/context.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { tempDir, testConfig } from '../support/fixtures.ts';

const skipping: Transcript = {
  file: 't.jsonl',
  entries: [1, 4, 9, 20].map((turn) => ({ turn, speaker: 'GM', text: `text ${turn}` })),
  firstTurn: 1,
  lastTurn: 20,
};

describe('a turn the transcript skips', () => {
  it('is refused with the nearest turns that exist', () => {
    expect(() => turnContext(skipping, 8, 5)).toThrow(TurnMissingError);
    expect(() => turnContext(skipping, 8, 5)).toThrow("This campaign's story has no turn 8; the nearest are turn 4 and turn 9.");
  });

  it('still reads the turns around one that exists, and refuses turns outside the range as before', () => {
    expect(turnContext(skipping, 4, 5).entries.map((e) => e.turn)).toEqual([1, 4, 9]);
    expect(() => turnContext(skipping, 21, 5)).toThrow(TurnOutOfRangeError);
  });

  describe('through the service', () => {
    let emulator: GeminiEmulator;
    let campaigns: { dir: string; cleanup: () => void };
    let limner: Limner;
    beforeAll(async () => {
      emulator = await GeminiEmulator.start();
    });
    afterAll(async () => {
      await emulator.close();
    });
    beforeEach(async () => {
      campaigns = tempDir('limner-campaigns-');
      const { config, secrets } = testConfig(campaigns.dir, emulator.url);
      limner = await createLimner(config, secrets, silentLogger);
      await limner.campaigns.create('gappy', { name: 'Gappy' }, skipping.entries);
    });
    afterEach(async () => {
      await limner.close();
      campaigns.cleanup();
    });

    it('refuses /scene turn for a skipped turn before any model call', async () => {
      const request = { kind: 'turn', campaignId: 'gappy', turn: 12, requester: by('cli') } as const;
      await expect(limner.scenes.check(request)).rejects.toThrow(new TurnMissingError(12, [9, 20]));
      await expect(limner.scenes.run(request)).rejects.toBeInstanceOf(TurnMissingError);
      expect(emulator.requests).toEqual([]);
    });
  });
});
