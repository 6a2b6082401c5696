import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PLACE_INTERVAL_MS, ProgressReply } from '../commands/bot/progress.ts';
import { silentLogger } from '../src/log.ts';

describe('ProgressReply', () => {
  let sent: string[];
  let progress: ProgressReply;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    sent = [];
    progress = new ProgressReply(async (text) => void sent.push(text), silentLogger);
  });
  afterEach(() => vi.useRealTimers());

  it('shows a place in line at once, then at most once an interval, the newest place', async () => {
    progress.showPlace('5 ahead');
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual(['5 ahead']);
    for (const n of [4, 3, 2]) progress.showPlace(`${n} ahead`);
    await vi.advanceTimersByTimeAsync(PLACE_INTERVAL_MS - 1);
    expect(sent).toEqual(['5 ahead']);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual(['5 ahead', '2 ahead']);
  });

  it('drops a place not yet shown once the job starts', async () => {
    progress.showPlace('3 ahead');
    progress.showPlace('2 ahead');
    progress.show('Reading the log…');
    await vi.advanceTimersByTimeAsync(PLACE_INTERVAL_MS * 2);
    await progress.settled();
    expect(sent).toEqual(['3 ahead', 'Reading the log…']);
  });
});
