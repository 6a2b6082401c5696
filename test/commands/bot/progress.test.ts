import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PLACE_EDITS_PER_SECOND, ProgressReply } from '../../../commands/bot/progress.ts';
import { silentLogger } from '../../../src/platform/log.ts';

const TICK = 1000 / PLACE_EDITS_PER_SECOND;

describe('ProgressReply places in line', () => {
  let sent: Array<[string, string]>;
  const reply = (name: string) => new ProgressReply(async (text) => void sent.push([name, text]), silentLogger);
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    sent = [];
  });
  afterEach(() => vi.useRealTimers());

  it('shares the pace between replies: new ones first, each showing its newest place', async () => {
    const [a, b, c] = [reply('a'), reply('b'), reply('c')];
    a.showPlace('3 ahead');
    b.showPlace('4 ahead');
    await vi.advanceTimersByTimeAsync(TICK);
    expect(sent).toEqual([['a', '3 ahead']]);
    a.showPlace('2 ahead'); // shown before: waits behind b and the newcomer c
    c.showPlace('5 ahead');
    b.showPlace('3 ahead');
    await vi.advanceTimersByTimeAsync(3 * TICK);
    expect(sent).toEqual([
      ['a', '3 ahead'],
      ['b', '3 ahead'],
      ['c', '5 ahead'],
      ['a', '2 ahead'],
    ]);
  });

  it('drops a place not yet shown once the job starts', async () => {
    const a = reply('a');
    a.showPlace('2 ahead');
    a.show('Reading the log…');
    await vi.advanceTimersByTimeAsync(5 * TICK);
    await a.settled();
    expect(sent).toEqual([['a', 'Reading the log…']]);
  });
});
