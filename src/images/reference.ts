import { ReferenceNotImageError, ReferenceTooManyPixelsError } from './errors.ts';
import { loadSharp } from './sharp.ts';

/** An image a user supplied as a reference, as downloaded: bytes only, never a URL. */
export interface UserReference {
  /** The file name the user gave it, for messages. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Formats accepted from users; others (SVG, TIFF, HEIF, ...) are refused before decoding. */
const USER_FORMATS = new Set(['png', 'jpeg', 'webp', 'gif']);

/**
 * Checks a user's reference and prepares it for the image model: it must be a PNG, JPEG, WebP or
 * GIF of at most `maxPixels` pixels (sharp `limitInputPixels`, checked from the header before the
 * image is decoded); it is shrunk to fit `maxSide` pixels per side and re-encoded as PNG.
 * @throws ReferenceNotImageError, ReferenceTooManyPixelsError
 */
export async function userReferencePng(reference: UserReference, maxPixels: number, maxSide = 1024): Promise<Buffer> {
  const sharp = await loadSharp();
  let format: string | undefined;
  try {
    format = (await sharp(reference.bytes, { limitInputPixels: false }).metadata()).format;
  } catch (err) {
    throw new ReferenceNotImageError(reference.name, { cause: err });
  }
  if (!format || !USER_FORMATS.has(format)) throw new ReferenceNotImageError(reference.name);
  try {
    return await sharp(reference.bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .png()
      .toBuffer();
  } catch (err) {
    if (/pixel limit/i.test((err as Error).message ?? '')) throw new ReferenceTooManyPixelsError(reference.name, maxPixels, { cause: err });
    throw new ReferenceNotImageError(reference.name, { cause: err });
  }
}
