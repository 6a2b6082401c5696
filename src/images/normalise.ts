import sharp from 'sharp';
import { InvalidImageError } from '../errors.ts';

/** A PNG ready to store, with its dimensions in pixels. */
export interface PngImage {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
}

/**
 * Checks that `bytes` decode as an image within `maxPixels` (sharp's `limitInputPixels`) and
 * returns a PNG: PNG input is kept byte for byte, anything else (JPEG, WebP, ...) is converted.
 * @param maxPixels - Largest width x height accepted, pixels.
 * @throws InvalidImageError when sharp cannot decode the bytes or the image is too large.
 */
export async function normaliseToPng(bytes: Uint8Array, maxPixels: number): Promise<PngImage> {
  try {
    const image = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' });
    const meta = await image.metadata();
    if (!meta.width || !meta.height) throw new InvalidImageError('it has no dimensions');
    if (meta.format === 'png') {
      // Decoding the whole image proves the file is complete, not just its header.
      await image.clone().raw().toBuffer({ resolveWithObject: false });
      return { png: Buffer.from(bytes), width: meta.width, height: meta.height };
    }
    const { data, info } = await image.png().toBuffer({ resolveWithObject: true });
    return { png: data, width: info.width, height: info.height };
  } catch (err) {
    if (err instanceof InvalidImageError) throw err;
    const message = (err as Error).message ?? String(err);
    if (/pixel limit/i.test(message)) {
      throw new InvalidImageError(`it is larger than ${maxPixels.toLocaleString('en-US')} pixels`, { cause: err });
    }
    throw new InvalidImageError('it is not a supported image (PNG, JPEG, WebP or GIF)', { cause: err });
  }
}

/**
 * A reference image for the model: decoded within `maxPixels`, shrunk to fit `maxSide` pixels
 * per side (larger portraits only cost input tokens) and re-encoded as PNG.
 * @throws InvalidImageError
 */
export async function referencePng(bytes: Uint8Array, maxPixels: number, maxSide = 1024): Promise<Buffer> {
  try {
    return await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .png()
      .toBuffer();
  } catch (err) {
    throw new InvalidImageError('the reference image is not a readable PNG, JPEG, WebP or GIF within the size limit', {
      cause: err,
    });
  }
}
