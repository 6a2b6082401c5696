import { describe, expect, it } from 'vitest';
import { SeenInteractions } from '../../../commands/bot/seen-interactions.ts';

describe('SeenInteractions', () => {
  it('says yes once per id, and no to the same id again within the window', () => {
    let now = 0;
    const seen = new SeenInteractions(1000, 100, () => now);
    expect(seen.firstSight('a')).toBe(true);
    expect(seen.firstSight('b')).toBe(true);
    now = 999;
    expect(seen.firstSight('a')).toBe(false);
    expect(seen.firstSight('b')).toBe(false);
  });

  it('forgets ids once the window has passed', () => {
    let now = 0;
    const seen = new SeenInteractions(1000, 100, () => now);
    seen.firstSight('a');
    now = 500;
    seen.firstSight('b');
    now = 1000;
    expect(seen.firstSight('a')).toBe(true);
    expect(seen.firstSight('b')).toBe(false);
  });

  it('keeps at most maxIds ids, dropping the oldest first', () => {
    const seen = new SeenInteractions(60_000, 3, () => 0);
    for (const id of ['a', 'b', 'c', 'd']) expect(seen.firstSight(id)).toBe(true);
    expect(seen.firstSight('d')).toBe(false);
    expect(seen.firstSight('c')).toBe(false);
    // 'a' was dropped to make room for 'd'.
    expect(seen.firstSight('a')).toBe(true);
  });
});
