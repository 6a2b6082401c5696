import { afterEach, expect, it, vi } from 'vitest';
import { ScanCache } from '../../../src/scenes/best/scan-cache.ts';
import { describeEachDialect, openTestStore, type TestStore } from '../../support/postgres.ts';

describeEachDialect('ScanCache', (dialect) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await t?.close();
    t = undefined;
  });

  async function open(): Promise<ScanCache> {
    t = await openTestStore(dialect);
    return new ScanCache(t.store);
  }

  it('keeps a pick or a text answer under its key, the latest replacing the earlier', async () => {
    const cache = await open();
    expect(await cache.get('passage:aa')).toBeUndefined();
    await cache.put('passage:aa', 'kraghammer', { turn: 4, rationale: 'the dragon lands' });
    await cache.put('passage:aa', 'kraghammer', { turn: 7, rationale: 'the bridge falls' });
    expect(await cache.get('passage:aa')).toEqual({ turn: 7, rationale: 'the bridge falls' });
    expect(await cache.getText('cast:bb')).toBeUndefined();
    await cache.putText('cast:bb', 'kraghammer', '{"characters":[]}');
    expect(await cache.getText('cast:bb')).toBe('{"characters":[]}');
  });

  it("lists a campaign's keys of a prefix, newest first", async () => {
    const cache = await open();
    vi.useFakeTimers({ toFake: ['Date'] });
    const pick = { turn: 1, rationale: 'x' };
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    await cache.put('final:10:aa', 'kraghammer', pick);
    vi.setSystemTime(new Date('2025-01-02T00:00:00Z'));
    await cache.put('final:20:bb', 'kraghammer', pick);
    await cache.put('passage:cc', 'kraghammer', pick);
    await cache.put('final:30:dd', 'other', pick);
    await cache.put('FINAL:40:ee', 'kraghammer', pick);
    expect(await cache.keys('kraghammer', 'final:')).toEqual(['final:20:bb', 'final:10:aa']);
    expect(await cache.keys('kraghammer', 'final:2')).toEqual(['final:20:bb']);
    expect(await cache.keys('nowhere', 'final:')).toEqual([]);
  });
});
