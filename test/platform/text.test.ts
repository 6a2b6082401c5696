import { describe, expect, it } from 'vitest';
import { isBlank } from '../../src/platform/text.ts';

describe('isBlank', () => {
  it.each([
    ['empty', ''],
    ['spaces, tabs and line breaks', ' \t\r\n'],
    ['no-break and ideographic spaces', '\u00a0\u3000'],
    ['zero-width space, word joiner and byte order mark', '\u200b\u2060\ufeff'],
    ['direction marks and overrides', '\u200e\u200f\u202a\u202e\u2066\u2069'],
    ['zero-width joiners', '\u200c\u200d'],
    ['Hangul fillers and the blank Braille pattern', '\u115f\u3164\uffa0\u2800'],
    ['soft hyphen, grapheme joiner and a variation selector', '\u00ad\u034f\ufe0f'],
  ])('is true for %s', (_name, text) => {
    expect(isBlank(text)).toBe(true);
  });

  it.each([
    ['a letter among invisible characters', '\u200ba\u200b'],
    ['an accented letter', 'é'],
    ['an emoji', '🐉'],
    ['a punctuation mark', '.'],
    ['CJK text', '夜'],
  ])('is false for %s', (_name, text) => {
    expect(isBlank(text)).toBe(false);
  });
});
