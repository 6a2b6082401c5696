import { loadSharp } from './sharp.ts';

/** A smaller encoding of a picture that fits an upload limit. */
export interface Preview {
  readonly data: Buffer;
  readonly format: 'webp' | 'jpeg';
  /** Encoder quality used, 1-100. */
  readonly quality: number;
  /** Pixels; smaller than the original only when quality steps alone could not fit. */
  readonly width: number;
  readonly height: number;
}

const QUALITIES = [90, 80, 70, 60, 50, 40];

/** How a preview was encoded; {@link encodePreview} with the same settings gives the same bytes. */
export type PreviewSettings = Pick<Preview, 'format' | 'quality' | 'width' | 'height'>;

/**
 * Encodes `png` in each of `formats` (default WebP, then JPEG) with quality stepped down
 * (90, 80, ... 40) until it fits `limitBytes`; if nothing fits, halves the dimensions and tries again.
 * @param limitBytes - Upload limit, bytes (e.g. Discord's `attachmentSizeLimit`).
 * @param formats - Encodings to try at each size, in order.
 * @returns undefined when nothing fits (a limit of a few kilobytes).
 */
export async function fitPreview(
  png: Buffer,
  limitBytes: number,
  formats: ReadonlyArray<Preview['format']> = ['webp', 'jpeg'],
): Promise<Preview | undefined> {
  const sharp = await loadSharp();
  const meta = await sharp(png).metadata();
  let width = meta.width ?? 0;
  let height = meta.height ?? 0;
  for (let scale = 0; scale < 4 && width >= 16 && height >= 16; scale++) {
    for (const format of formats) {
      for (const quality of QUALITIES) {
        const data = await encodePreview(png, { format, quality, width, height });
        if (data.byteLength <= limitBytes) return { data, format, quality, width, height };
      }
    }
    width = Math.round(width / 2);
    height = Math.round(height / 2);
  }
  return undefined;
}

/** Encodes `png` with the given settings (libvips output is deterministic, so this repeats a {@link fitPreview} result). */
export async function encodePreview(png: Buffer, settings: PreviewSettings): Promise<Buffer> {
  const sharp = await loadSharp();
  const pipeline = sharp(png).resize({ width: settings.width, height: settings.height });
  return (
    settings.format === 'webp' ? pipeline.webp({ quality: settings.quality }) : pipeline.jpeg({ quality: settings.quality, mozjpeg: true })
  ).toBuffer();
}
