import { InvalidImageError } from './errors.ts';
import { loadSharp } from './sharp.ts';
import { checkPngChunks, isPng } from './png.ts';

/** A PNG ready to store, with its dimensions in pixels. */
export interface PngImage {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
}

/**
 * Checks an image the model drew and returns it as a PNG within `maxPixels`. A PNG is kept byte
 * for byte once its chunks prove it whole ({@link checkPngChunks}): the model's PNGs are well
 * formed, and decoding each one would hold a thread-pool thread for 20-70 ms (BENCHMARKS.md,
 * figure 2). Anything else (JPEG, WebP, ...) is decoded by sharp (`limitInputPixels`) and converted.
 * @param maxPixels - Largest width x height accepted, pixels.
 * @throws InvalidImageError when the bytes are not a whole image or the image is too large.
 */
export async function normaliseToPng(bytes: Uint8Array, maxPixels: number): Promise<PngImage> {
  if (isPng(bytes)) {
    const { width, height } = checkPngChunks(bytes);
    if (width * height > maxPixels) {
      throw new InvalidImageError(`it is larger than ${maxPixels.toLocaleString('en-US')} pixels`, { limitPixels: maxPixels });
    }
    return { png: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), width, height };
  }
  const sharp = await loadSharp();
  try {
    const image = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' });
    const meta = await image.metadata();
    if (!meta.width || !meta.height) throw new InvalidImageError('it has no dimensions');
    const { data, info } = await image.png().toBuffer({ resolveWithObject: true });
    return { png: data, width: info.width, height: info.height };
  } catch (err) {
    if (err instanceof InvalidImageError) throw err;
    const message = (err as Error).message ?? String(err);
    if (/pixel limit/i.test(message)) {
      throw new InvalidImageError(`it is larger than ${maxPixels.toLocaleString('en-US')} pixels`, { cause: err, limitPixels: maxPixels });
    }
    throw new InvalidImageError('it is not a supported image (PNG, JPEG, WebP or GIF)', { cause: err });
  }
}
