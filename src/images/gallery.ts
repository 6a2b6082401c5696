import type { ImageRow } from '../platform/schema.ts';
import { renderContactSheet, type ContactSheet } from './contact-sheet.ts';

/** Pictures per gallery page: a 4 x 3 contact sheet, well under Discord's 25 select-menu options. */
export const GALLERY_PAGE_SIZE = 12;

/** One page of a gallery. */
export interface GalleryPage {
  /** 1-based; a requested page past the end is clamped to the last. */
  readonly page: number;
  readonly pages: number;
  /** Pictures in the whole gallery. */
  readonly total: number;
  /** This page's pictures, in gallery order. */
  readonly images: readonly ImageRow[];
}

/**
 * Cuts a gallery (pictures sorted by turn, as `ImageStore.list` returns them) into pages.
 * @param page - 1-based; clamped to 1..pages.
 */
export function galleryPage(images: readonly ImageRow[], page: number, pageSize = GALLERY_PAGE_SIZE): GalleryPage {
  const pages = Math.max(1, Math.ceil(images.length / pageSize));
  // A page that is not a number (never asked for by the doors, which check theirs) is the first.
  const current = Number.isFinite(page) ? Math.min(Math.max(1, Math.trunc(page)), pages) : 1;
  return { page: current, pages, total: images.length, images: images.slice((current - 1) * pageSize, current * pageSize) };
}

/** The caption of a picture in a gallery: `Turn 1,500 · specific`. */
export function tileLabel(image: Pick<ImageRow, 'turn' | 'mode'>): string {
  return `Turn ${image.turn.toLocaleString('en-US')} · ${image.mode}`;
}

/**
 * The contact sheet of a gallery page: each picture's thumbnail captioned with {@link tileLabel}.
 * @param read - A picture's PNG bytes (e.g. `ImageStore.read`).
 * @param maxInputPixels - Largest picture decoded, pixels.
 */
export function gallerySheet(page: GalleryPage, read: (image: ImageRow) => Promise<Buffer>, maxInputPixels: number): Promise<ContactSheet> {
  return renderContactSheet(
    page.images.map((image) => ({ read: () => read(image), label: tileLabel(image) })),
    maxInputPixels,
  );
}
