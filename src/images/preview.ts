import sharp from 'sharp';

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

/**
 * Encodes `png` as WebP with quality stepped down (90, 80, ... 40) until it fits `limitBytes`;
 * if even that is too large, halves the dimensions and tries again, then falls back to JPEG.
 * @param limitBytes - Upload limit, bytes (e.g. Discord's `attachmentSizeLimit`).
 * @returns undefined when nothing fits (a limit of a few kilobytes).
 */
export async function fitPreview(png: Buffer, limitBytes: number): Promise<Preview | undefined> {
  const meta = await sharp(png).metadata();
  let width = meta.width ?? 0;
  let height = meta.height ?? 0;
  for (let scale = 0; scale < 4 && width >= 16 && height >= 16; scale++) {
    for (const format of ['webp', 'jpeg'] as const) {
      for (const quality of QUALITIES) {
        const pipeline = sharp(png).resize({ width, height });
        const data = await (format === 'webp' ? pipeline.webp({ quality }) : pipeline.jpeg({ quality, mozjpeg: true })).toBuffer();
        if (data.byteLength <= limitBytes) return { data, format, quality, width, height };
      }
    }
    width = Math.round(width / 2);
    height = Math.round(height / 2);
  }
  return undefined;
}
