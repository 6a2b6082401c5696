import type { OverlayOptions } from 'sharp';
import { loadSharp } from './sharp.ts';

/** One picture on a contact sheet and the caption under it. */
export interface SheetTile {
  /** Reads the picture's bytes (e.g. `ImageStore.read`); null draws the tile as unavailable. */
  readonly read: (() => Promise<Buffer>) | null;
  readonly label: string;
}

/** A rendered contact sheet: a JPEG, its dimensions in pixels. */
export interface ContactSheet {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/** Tiles per row. */
const COLUMNS = 4;
/** Pixels. */
const GAP = 12;
const LABEL_HEIGHT = 30;
const FONT_SIZE = 17;
/** Discord's dark theme, so the sheet sits in the chat without a frame. */
const BACKGROUND = { r: 30, g: 31, b: 34 };
const TILE_BACKGROUND = { r: 43, g: 45, b: 49 };
const TEXT_COLOUR = '#f2f3f5';

/** The grid of a sheet: columns, and the box each thumbnail is fitted into (pixels). */
export interface SheetLayout {
  readonly columns: number;
  readonly thumbWidth: number;
  readonly thumbHeight: number;
}

/**
 * Draws thumbnails in a grid of up to four columns (row by row, in the order given), each fitted
 * into 320 x 180 pixels with its label below, as one JPEG: 1,340 pixels wide for four columns,
 * 210 + 12 pixels per row plus 12. A picture that cannot be read gets an "unavailable" tile instead of
 * failing the sheet. Thumbnails are decoded one at a time, so memory holds one full-size picture at most.
 * @param maxInputPixels - Largest picture decoded, pixels (sharp `limitInputPixels`); larger ones are "unavailable".
 * @param layout - Another grid (at most `layout.columns` columns, thumbnails of that box).
 */
export async function renderContactSheet(
  tiles: readonly SheetTile[],
  maxInputPixels: number,
  layout: SheetLayout = { columns: COLUMNS, thumbWidth: 320, thumbHeight: 180 },
): Promise<ContactSheet> {
  const sharp = await loadSharp();
  const { thumbWidth, thumbHeight } = layout;
  const columns = Math.max(1, Math.min(layout.columns, tiles.length));
  const rows = Math.max(1, Math.ceil(tiles.length / columns));
  const width = columns * thumbWidth + (columns + 1) * GAP;
  const height = rows * (thumbHeight + LABEL_HEIGHT) + (rows + 1) * GAP;

  const layers: OverlayOptions[] = [];
  const svg: string[] = [];
  for (const [i, tile] of tiles.entries()) {
    const left = GAP + (i % columns) * (thumbWidth + GAP);
    const top = GAP + Math.floor(i / columns) * (thumbHeight + LABEL_HEIGHT + GAP);
    const read = tile.read;
    const thumb =
      read === null
        ? undefined
        : await read()
            .then((bytes) =>
              sharp(bytes, { limitInputPixels: maxInputPixels })
                .resize(thumbWidth, thumbHeight, { fit: 'contain', background: TILE_BACKGROUND })
                .removeAlpha()
                .raw()
                .toBuffer({ resolveWithObject: true }),
            )
            .catch(() => undefined);
    if (thumb) {
      layers.push({
        input: thumb.data,
        raw: { width: thumb.info.width, height: thumb.info.height, channels: thumb.info.channels },
        left,
        top,
      });
    } else {
      svg.push(
        `<rect x="${left}" y="${top}" width="${thumbWidth}" height="${thumbHeight}" fill="rgb(${TILE_BACKGROUND.r},${TILE_BACKGROUND.g},${TILE_BACKGROUND.b})"/>`,
      );
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
