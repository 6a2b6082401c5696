import { renderContactSheet, type ContactSheet } from './contact-sheet.ts';

/** One place on a variations sheet: how to read the picture's bytes, or null once it was deleted. */
export type VariationTile = { readonly read: () => Promise<Buffer> } | null;

/**
 * The contact image of a scene's variations: numbered 1 to n in the order given, in one row of two
 * or three, or 2 x 2 for four, each fitted into 640 x 360 pixels, as one JPEG (1,316 x 816 pixels for
 * four). A deleted variation keeps its number and place, drawn as unavailable and labelled so.
 * @param maxInputPixels - Largest picture decoded, pixels (sharp `limitInputPixels`).
 */
export function variationSheet(tiles: readonly VariationTile[], maxInputPixels: number): Promise<ContactSheet> {
  return renderContactSheet(
    tiles.map((tile, i) => (tile ? { read: tile.read, label: String(i + 1) } : { read: null, label: `${i + 1} · deleted` })),
    maxInputPixels,
    { columns: tiles.length === 4 ? 2 : tiles.length, thumbWidth: 640, thumbHeight: 360 },
  );
}
