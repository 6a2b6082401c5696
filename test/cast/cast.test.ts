import path from 'node:path';
import { afterEach, beforeAll, afterAll, expect, it } from 'vitest';
import { createLimner, type Limner } from '../../src/app.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns, testConfig } from '../support/fixtures.ts';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../support/postgres.ts';
import { by } from '../support/requests.ts';

let emulator: GeminiEmulator;
beforeAll(async () => {
  // Slow enough that both processes ask while the first portrait is being painted.
  emulator = await GeminiEmulator.start({ latencyMs: 300 });
});
afterAll(async () => {
  await emulator.close();
});

describeEachDialect('CastCampaign.portrait in two processes on one database', (dialect) => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Two Limners on one database and campaigns folder: two processes in all but the pid. */
  async function twoProcesses(): Promise<[Limner, Limner]> {
    const campaigns = sampleCampaigns();
    cleanups.push(campaigns.cleanup);
    let database = path.join(campaigns.dir, 'limner.db');
    if (dialect === 'postgres') {
      const pg: TestDatabase = await createTestDatabase();
      cleanups.push(pg.drop);
      database = pg.url;
    }
    const { config, secrets } = testConfig(campaigns.dir, emulator.url, { database });
    const limners = [await createLimner(config, secrets, silentLogger), await createLimner(config, secrets, silentLogger, { shard: 1 })];
    for (const limner of limners) cleanups.push(() => limner.close());
    return limners as [Limner, Limner];
  }

  it('paints a member asked for in both at once once: the second takes the first one’s portrait', async () => {
    emulator.reset();
    const [a, b] = await twoProcesses();
    const { member } = await a.cast.setCharacter({ campaignId: SAMPLE_CAMPAIGN, requester: by('u1'), name: 'Mirelle', description: 'a tall tiefling bard' });
    const [first, second] = await Promise.all([
      a.cast.portrait({ campaignId: SAMPLE_CAMPAIGN, requester: by('u1'), memberId: member.id }),
      b.cast.portrait({ campaignId: SAMPLE_CAMPAIGN, requester: by('u2'), memberId: member.id }),
    ]);
    expect(emulator.requests.filter((r) => r.model === a.config.generation.image_model)).toHaveLength(1);
    expect(second.image.id).toBe(first.image.id);
    expect([first.painted, second.painted].sort()).toEqual([false, true]);
    expect((await b.cast.member(SAMPLE_CAMPAIGN, member.id))?.portraitImageId).toBe(first.image.id);
  });
});
