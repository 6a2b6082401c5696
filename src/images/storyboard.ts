import type { OverlayOptions } from 'sharp';
import { loadSharp } from './sharp.ts';

/** One panel of a storyboard: its picture and the caption drawn under it. */
export interface StoryboardPanel {
  /** The panel's PNG. */
  readonly png: Buffer;
  readonly caption: string;
}

/** A rendered storyboard: a JPEG and its dimensions in pixels. */
export interface StoryboardImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/** Box each panel is fitted into, keeping its aspect ratio, pixels (16:9, the default aspect ratio). */
const PANEL_WIDTH = 512;
const PANEL_HEIGHT = 288;
const GAP = 16;
const FONT_SIZE = 18;
const LINE_HEIGHT = 23;
/** Caption lines under a panel; a longer caption is cut with `…`. */
const CAPTION_LINES = 3;
const CAPTION_HEIGHT = CAPTION_LINES * LINE_HEIGHT + 10;
/** Characters that fit one caption line at {@link FONT_SIZE} in a sans-serif font, about 0.55 em each. */
const LINE_CHARS = Math.floor(PANEL_WIDTH / (FONT_SIZE * 0.55));
/** Discord's dark theme, so the storyboard sits in the chat without a frame. */
const BACKGROUND = { r: 30, g: 31, b: 34 };
const PANEL_BACKGROUND = { r: 43, g: 45, b: 49 };
const TEXT_COLOUR = '#f2f3f5';

/**
 * Draws panels in reading order, left to right and row by row (three columns; two for four panels,
 * so they make a square), each fitted into 512 x 288 pixels with its number and caption below,
 * wrapped to at most three lines. One JPEG: 1,600 pixels wide for three columns.
 * @param maxInputPixels - Largest panel decoded, pixels (sharp `limitInputPixels`).
 * @throws sharp's errors when a panel does not decode.
 */
export async function renderStoryboard(panels: readonly StoryboardPanel[], maxInputPixels: number): Promise<StoryboardImage> {
  const sharp = await loadSharp();
  const columns = panels.length === 4 ? 2 : Math.max(1, Math.min(3, panels.length));
  const rows = Math.max(1, Math.ceil(panels.length / columns));
  const width = columns * PANEL_WIDTH + (columns + 1) * GAP;
  const height = rows * (PANEL_HEIGHT + CAPTION_HEIGHT) + (rows + 1) * GAP;
  const layers: OverlayOptions[] = [];
  const svg: string[] = [];
  for (const [i, panel] of panels.entries()) {
    const left = GAP + (i % columns) * (PANEL_WIDTH + GAP);
    const top = GAP + Math.floor(i / columns) * (PANEL_HEIGHT + CAPTION_HEIGHT + GAP);
    const fitted = await sharp(panel.png, { limitInputPixels: maxInputPixels })
      .resize(PANEL_WIDTH, PANEL_HEIGHT, { fit: 'contain', background: PANEL_BACKGROUND })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    layers.push({
      input: fitted.data,
      raw: { width: fitted.info.width, height: fitted.info.height, channels: fitted.info.channels },
      left,
      top,
    });
    for (const [n, line] of wrap(`${i + 1}. ${panel.caption}`, LINE_CHARS, CAPTION_LINES).entries()) {
      svg.push(text(left, top + PANEL_HEIGHT + (n + 1) * LINE_HEIGHT, line));
    }
  }
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${svg.join('')}</svg>`;
  layers.push({ input: Buffer.from(overlay), left: 0, top: 0 });
  const data = await sharp({ create: { width, height, channels: 3, background: BACKGROUND } })
    .composite(layers)
    .jpeg({ quality: 88 })
    .toBuffer();
  return { data, width, height };
}

/**
 * `text` in lines of at most `width` characters, broken between words (a longer word is cut), at
 * most `lines` of them; the last ends with `…` when text was left out.
 */
export function wrap(text: string, width: number, lines: number): string[] {
  const all: string[] = [];
  let line = '';
  for (const word of text.replace(/\s+/g, ' ').trim().split(' ')) {
    const cut = word.slice(0, width);
    if (!line) line = cut;
    else if (line.length + 1 + cut.length <= width) line += ` ${cut}`;
    else {
      all.push(line);
      line = cut;
    }
  }
  if (line) all.push(line);
  if (all.length <= lines) return all;
  const kept = all.slice(0, lines);
  kept[lines - 1] = `${kept[lines - 1]!.slice(0, width - 1)}…`;
  return kept;
}

function text(x: number, y: number, content: string): string {
  return `<text x="${x}" y="${y}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="${FONT_SIZE}" fill="${TEXT_COLOUR}">${escapeXml(content)}</text>`;
}

function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
