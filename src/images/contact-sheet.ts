import sharp, { type OverlayOptions } from 'sharp';

/** One picture on a contact sheet and the caption under it. */
export interface SheetTile {
  /** Absolute path of the image file. */
  readonly file: string;
  readonly label: string;
}

/** Layout of a contact sheet; sizes in pixels. */
export interface SheetLayout {
  /** Tiles per row (default 4). */
  readonly columns?: number;
  /** Box each thumbnail is fitted into, keeping its aspect ratio (default 320 x 180). */
  readonly thumbWidth?: number;
  readonly thumbHeight?: number;
  /** Largest image decoded, pixels (sharp `limitInputPixels`). */
  readonly maxInputPixels: number;
}

/** A rendered contact sheet: a JPEG, its dimensions in pixels. */
export interface ContactSheet {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

const GAP = 12;
const LABEL_HEIGHT = 30;
const FONT_SIZE = 17;
/** Discord's dark theme, so the sheet sits in the chat without a frame. */
const BACKGROUND = { r: 30, g: 31, b: 34 };
const TILE_BACKGROUND = { r: 43, g: 45, b: 49 };
const TEXT_COLOUR = '#f2f3f5';

/**
 * Draws thumbnails in a grid (row by row, in the order given), each with its label below, as one
 * JPEG. A file that cannot be read gets an "unavailable" tile instead of failing the sheet.
 * Thumbnails are decoded one at a time, so memory holds one full-size picture at most.
 */
export async function renderContactSheet(tiles: readonly SheetTile[], layout: SheetLayout): Promise<ContactSheet> {
  const thumbWidth = layout.thumbWidth ?? 320;
  const thumbHeight = layout.thumbHeight ?? 180;
  const columns = Math.max(1, Math.min(layout.columns ?? 4, tiles.length));
  const rows = Math.max(1, Math.ceil(tiles.length / columns));
  const width = columns * thumbWidth + (columns + 1) * GAP;
  const height = rows * (thumbHeight + LABEL_HEIGHT) + (rows + 1) * GAP;

  const layers: OverlayOptions[] = [];
  const svg: string[] = [];
  for (const [i, tile] of tiles.entries()) {
    const left = GAP + (i % columns) * (thumbWidth + GAP);
    const top = GAP + Math.floor(i / columns) * (thumbHeight + LABEL_HEIGHT + GAP);
    const thumb = await sharp(tile.file, { limitInputPixels: layout.maxInputPixels })
      .resize(thumbWidth, thumbHeight, { fit: 'contain', background: TILE_BACKGROUND })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true })
      .catch(() => undefined);
    if (thumb) {
      layers.push({ input: thumb.data, raw: { width: thumb.info.width, height: thumb.info.height, channels: thumb.info.channels }, left, top });
    } else {
      svg.push(`<rect x="${left}" y="${top}" width="${thumbWidth}" height="${thumbHeight}" fill="rgb(${TILE_BACKGROUND.r},${TILE_BACKGROUND.g},${TILE_BACKGROUND.b})"/>`);
      svg.push(text(left + thumbWidth / 2, top + thumbHeight / 2, 'unavailable', 0.6));
    }
    svg.push(text(left + thumbWidth / 2, top + thumbHeight + LABEL_HEIGHT - 9, tile.label));
  }
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${svg.join('')}</svg>`;
  layers.push({ input: Buffer.from(overlay), left: 0, top: 0 });
  const data = await sharp({ create: { width, height, channels: 3, background: BACKGROUND } })
    .composite(layers)
    .jpeg({ quality: 85, mozjpeg: true })
    .toBuffer();
  return { data, width, height };
}

function text(x: number, y: number, content: string, opacity = 1): string {
  return `<text x="${x}" y="${y}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="${FONT_SIZE}" fill="${TEXT_COLOUR}" fill-opacity="${opacity}" text-anchor="middle">${escapeXml(content)}</text>`;
}

function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
