import { afterEach, expect, it, vi } from 'vitest';
import { RecapStore } from '../../src/scenes/recap-store.ts';
import { describeEachDialect, openTestStore, type TestStore } from '../support/postgres.ts';

const CHANNEL = '400000000000000001';

describeEachDialect('RecapStore', (dialect) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await t?.close();
    t = undefined;
  });

  it("gives the last turn of a campaign's newest recap made in a channel, or from the CLI", async () => {
    t = await openTestStore(dialect);
    const recaps = new RecapStore(t.store);
    const recap = (fromTurn: number, toTurn: number, channelId: string | null) => ({
      campaignId: 'kraghammer',
      channelId,
      fromTurn,
      toTurn,
      imageIds: [],
      recap: `turns ${fromTurn}-${toTurn}`,
    });
    expect(await recaps.lastTurn('kraghammer', CHANNEL)).toBeUndefined();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    const first = await recaps.add(recap(1, 40, CHANNEL));
    vi.setSystemTime(new Date('2025-01-02T00:00:00Z'));
    const second = await recaps.add(recap(10, 20, CHANNEL));
    await recaps.add(recap(1, 60, null));
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).not.toBe(first);
    expect(await recaps.lastTurn('kraghammer', CHANNEL)).toBe(20);
    expect(await recaps.lastTurn('kraghammer', null)).toBe(60);
    expect(await recaps.lastTurn('kraghammer', '400000000000000002')).toBeUndefined();
    expect(await recaps.lastTurn('other', CHANNEL)).toBeUndefined();
  });
});
