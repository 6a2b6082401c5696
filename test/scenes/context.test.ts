import { TurnOutOfRangeError } from '../../src/scenes/errors.ts';
import { describe, expect, it } from 'vitest';
import type { Transcript } from '../../src/campaigns/transcript.ts';
import { currentContext, formatEntries, turnContext } from '../../src/scenes/context.ts';
import { withStyle } from '../../src/scenes/prompt.ts';

function transcript(turns: number[]): Transcript {
  const entries = turns.map((turn) => ({ turn, speaker: 'MATT', text: `text ${turn}` }));
  return { file: 't.jsonl', entries, firstTurn: turns[0]!, lastTurn: turns.at(-1)! };
}
const t2160 = transcript(Array.from({ length: 2160 }, (_, i) => i + 1));

describe('context windows', () => {
  it('current: the last N entries, filed under the last turn', () => {
    const c = currentContext(t2160, 10);
    expect(c.turn).toBe(2160);
    expect(c.entries.map((e) => e.turn)).toEqual([2151, 2152, 2153, 2154, 2155, 2156, 2157, 2158, 2159, 2160]);
    expect(currentContext(transcript([1, 2, 3]), 10).entries).toHaveLength(3);
  });

  it('turn N: the entries within the radius, clipped at both ends', () => {
    expect(turnContext(t2160, 1500, 5).entries.map((e) => e.turn)).toEqual([
      1495, 1496, 1497, 1498, 1499, 1500, 1501, 1502, 1503, 1504, 1505,
    ]);
    expect(turnContext(t2160, 1, 5).entries.map((e) => e.turn)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(turnContext(t2160, 2160, 5).entries.map((e) => e.turn)).toEqual([2155, 2156, 2157, 2158, 2159, 2160]);
    expect(turnContext(transcript([1, 4, 9, 20]), 9, 5).entries.map((e) => e.turn)).toEqual([4, 9]);
  });

  it('refuses turns outside the transcript with the valid range', () => {
    expect(() => turnContext(t2160, 9999, 5)).toThrow('Turn 9999 is out of range: this campaign has turns 1-2160.');
    expect(() => turnContext(t2160, 0, 5)).toThrow(TurnOutOfRangeError);
    expect(() => turnContext(t2160, 2.5, 5)).toThrow(TurnOutOfRangeError);
  });

  it('formats entries as [Turn N] Speaker: text', () => {
    expect(formatEntries(t2160.entries.slice(0, 2))).toBe('[Turn 1] MATT: text 1\n[Turn 2] MATT: text 2');
  });
});

describe('withStyle', () => {
  it('appends the art style', () => {
    expect(withStyle('A dwarf city glows.', 'oil painting', 1900)).toEqual({
      prompt: 'A dwarf city glows. Art style: oil painting.',
      truncated: false,
    });
  });
  it('cuts the scene at a word boundary so the style survives', () => {
    const scene = 'word '.repeat(600).trim();
    const { prompt, truncated } = withStyle(scene, 'ink wash', 1900);
    expect(truncated).toBe(true);
    expect(prompt.length).toBeLessThanOrEqual(1900);
    expect(prompt.endsWith(' Art style: ink wash.')).toBe(true);
    expect(prompt).not.toMatch(/wor Art/);
  });
});
