import { describe, expect, it } from 'vitest';
import { canvasOf } from '../../src/scenes/canvas.ts';

describe('canvasOf', () => {
  it("reads a stored picture's aspect ratio back from its pixels, as Gemini rounds them", () => {
    expect(canvasOf({ model: 'm', width: 1376, height: 768 })).toEqual({ model: 'm', aspectRatio: '16:9' });
    expect(canvasOf({ model: 'm', width: 768, height: 1376 }).aspectRatio).toBe('9:16');
    expect(canvasOf({ model: 'm', width: 1024, height: 1024 }).aspectRatio).toBe('1:1');
    expect(canvasOf({ model: 'm', width: 1584, height: 672 }).aspectRatio).toBe('21:9');
    expect(canvasOf({ model: 'm', width: 896, height: 1200 }).aspectRatio).toBe('3:4');
  });
});
