import { afterEach, expect, it } from 'vitest';
import { MomentCache } from '../../../src/scenes/best/moment-cache.ts';
import { describeEachDialect, openTestStore, type TestStore } from '../../support/postgres.ts';

describeEachDialect('MomentCache', (dialect) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('keeps an answer under its key, the latest replacing the earlier', async () => {
    t = await openTestStore(dialect);
    const cache = new MomentCache(t.store);
    expect(await cache.get('moments:3:aa')).toBeUndefined();
    await cache.put('moments:3:aa', 'kraghammer', { moments: [{ turn: 2, caption: 'They arrive.' }], recap: 'An arrival.' });
    const answer = {
      moments: [
        { turn: 2, caption: 'They arrive.' },
        { turn: 9, caption: 'The gate opens.' },
      ],
      recap: 'An arrival, then a gate.',
    };
    await cache.put('moments:3:aa', 'kraghammer', answer);
    expect(await cache.get('moments:3:aa')).toEqual(answer);
    expect(await cache.get('moments:3:bb')).toBeUndefined();
  });
});
