import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderStoryboard, wrap } from '../../src/images/storyboard.ts';

describe('storyboard', () => {
  it('wraps captions between words, cuts long words and ends a cut caption with …', () => {
    expect(wrap('  the  party   meets the dragon ', 10, 3)).toEqual(['the party', 'meets the', 'dragon']);
    expect(wrap('a'.repeat(25), 10, 3)).toEqual(['aaaaaaaaaa']);
    expect(wrap('one two three four five six seven eight', 9, 2)).toEqual(['one two', 'three…']);
  });

  it('lays panels out in reading order: three columns, two for four panels', async () => {
    const panel = (r: number) =>
      sharp({ create: { width: 160, height: 90, channels: 3, background: { r, g: 0, b: 0 } } })
        .png()
        .toBuffer();
    const six = await renderStoryboard(
      await Promise.all([10, 50, 90, 130, 170, 210].map(async (r) => ({ png: await panel(r), caption: `turn ${r}` }))),
      1e8,
    );
    expect([six.width, six.height]).toEqual([3 * 512 + 4 * 16, 2 * (288 + 79) + 3 * 16]);
    // The fourth panel opens the second row.
    const { data, info } = await sharp(six.data).raw().toBuffer({ resolveWithObject: true });
    const red = (x: number, y: number) => data[(y * info.width + x) * info.channels]!;
    expect(Math.abs(red(16 + 256, 16 + 144) - 10)).toBeLessThan(12);
    expect(Math.abs(red(16 + 256 + 528, 16 + 144) - 50)).toBeLessThan(12);
    expect(Math.abs(red(16 + 256, 16 + 144 + 288 + 79 + 16) - 130)).toBeLessThan(12);
    const four = await renderStoryboard(await Promise.all([1, 2, 3, 4].map(async () => ({ png: await panel(99), caption: 'x' }))), 1e8);
    expect(four.width).toBe(2 * 512 + 3 * 16);
  });
});
