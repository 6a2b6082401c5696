import { createHash } from 'node:crypto';
import sharp from 'sharp';

/**
 * Output sizes of the Gemini 3 image models at imageSize '1K', as [width, height] in pixels,
 * keyed by aspect ratio. '2K' doubles both sides and '4K' quadruples them (published table).
 */
export const GEMINI3_IMAGE_SIZES_1K: Readonly<Record<string, readonly [number, number]>> = {
  '1:1': [1024, 1024],
  '2:3': [848, 1264],
  '3:2': [1264, 848],
  '3:4': [896, 1200],
  '4:3': [1200, 896],
  '4:5': [928, 1152],
  '5:4': [1152, 928],
  '9:16': [768, 1376],
  '16:9': [1376, 768],
  '21:9': [1584, 672],
};

/** Side multiplier per imageSize; the API rejects lowercase 'k', so the emulator does too. */
const IMAGE_SIZE_SCALE: Readonly<Record<string, number>> = { '1K': 1, '2K': 2, '4K': 4 };

/** Output image tokens billed per image: Gemini 3 Pro Image charges 1K and 2K alike, 4K more. */
export function imageOutputTokens(imageSize: string): number {
  return imageSize === '4K' ? 2000 : 1120;
}

/**
 * Pixel size of the generated image for an aspect ratio ('16:9') and imageSize ('1K' | '2K' | '4K'),
 * or undefined when either value is not one the API accepts.
 */
export function imageDimensions(aspectRatio: string, imageSize: string): { width: number; height: number } | undefined {
  const base = GEMINI3_IMAGE_SIZES_1K[aspectRatio];
  const scale = IMAGE_SIZE_SCALE[imageSize];
  if (!base || scale === undefined) return undefined;
  return { width: base[0] * scale, height: base[1] * scale };
}

/**
 * The supported aspect ratio closest to width/height (both pixels). The real model picks its
 * output ratio from the reference image when the request names none, so edits keep their shape.
 */
export function closestAspectRatio(width: number, height: number): string {
  const target = Math.log(width / height);
  let best = '1:1';
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const [ratio, [w, h]] of Object.entries(GEMINI3_IMAGE_SIZES_1K)) {
    const distance = Math.abs(Math.log(w / h) - target);
    if (distance < bestDistance) {
      best = ratio;
      bestDistance = distance;
    }
  }
  return best;
}

/** What to draw on a placeholder picture. */
export interface PlaceholderSpec {
  /** Output width in pixels. */
  width: number;
  /** Output height in pixels. */
  height: number;
  /** Seeds the colours and shapes, so different prompts give different pixels. */
  seedText: string;
  /** Prompt text; its first words are drawn as a caption. */
  prompt: string;
  /** Number of images the request carried (edits / references), drawn as "edit of N images". */
  inputImages: number;
  /** Small footer line, e.g. model and size. */
  footer: string;
}

/** Words of the prompt drawn on the picture: enough to recognise it, few enough to stay legible. */
const CAPTION_WORDS = 12;

/**
 * Renders a real PNG (a seeded gradient landscape with the prompt's first words on it) with sharp.
 * Low zlib effort keeps a 1K image well under 100 ms; the file size does not matter to tests.
 */
export async function renderPlaceholderPng(spec: PlaceholderSpec): Promise<Buffer> {
  return sharp(Buffer.from(placeholderSvg(spec)))
    .png({ compressionLevel: 2, adaptiveFiltering: false })
    .toBuffer();
}

/** The SVG behind {@link renderPlaceholderPng}; exported so a human can inspect the layout. */
export function placeholderSvg(spec: PlaceholderSpec): string {
  const { width: w, height: h } = spec;
  const seed = createHash('sha256').update(spec.seedText).digest();
  const byte = (i: number): number => seed[i % seed.length] ?? 0;
  const hue = (byte(0) * 256 + byte(1)) % 360;
  const hue2 = (hue + 60 + (byte(2) % 120)) % 360;
  const skyTop = hslHex(hue, 0.65, 0.3 + (byte(3) % 20) / 100);
  const skyBottom = hslHex(hue2, 0.7, 0.55 + (byte(4) % 15) / 100);
  const orb = hslHex((hue + 180) % 360, 0.8, 0.75);
  const land = hslHex(hue2, 0.35, 0.16);
  const short = Math.min(w, h);

  const orbs: string[] = [];
  for (let i = 0; i < 4; i++) {
    const cx = Math.round((byte(5 + i * 3) / 255) * w);
    const cy = Math.round((byte(6 + i * 3) / 255) * h * 0.55);
    const r = Math.round(short * (0.04 + (byte(7 + i * 3) / 255) * 0.12));
    orbs.push(`<circle cx="${cx}" cy="${cy}" r="${r}" fill="${orb}" fill-opacity="${(0.2 + i * 0.1).toFixed(2)}"/>`);
  }

  // A ridge line from the seed reads as "a landscape" and changes visibly with the prompt.
  const peaks = 9;
  const ridge: string[] = [`0,${h}`];
  for (let i = 0; i <= peaks; i++) {
    const x = Math.round((i / peaks) * w);
    const y = Math.round(h * (0.55 + (byte(20 + i) / 255) * 0.25));
    ridge.push(`${x},${y}`);
  }
  ridge.push(`${w},${h}`);

  const words = spec.prompt.split(/\s+/).filter((word) => word.length > 0);
  let caption = words.slice(0, CAPTION_WORDS).join(' ');
  if (words.length > CAPTION_WORDS) caption += ' …';
  if (caption.length === 0) caption = '(no prompt text)';
  const fontSize = Math.max(12, Math.round(short * 0.055));
  // DejaVu Sans averages about 0.55 em per glyph; wrap so lines fit in 86 % of the width.
  const maxChars = Math.max(8, Math.floor((w * 0.86) / (fontSize * 0.55)));
  const lines = wrap(caption, maxChars);
  if (spec.inputImages > 0) lines.push(`edit of ${spec.inputImages} image${spec.inputImages === 1 ? '' : 's'}`);
  const lineHeight = Math.round(fontSize * 1.3);
  const panelHeight = lines.length * lineHeight + fontSize;
  const panelY = Math.round(h * 0.08);
  const tspans = lines
    .map((line, i) => `<tspan x="${Math.round(w / 2)}" y="${panelY + fontSize + i * lineHeight}">${escapeXml(line)}</tspan>`)
    .join('');
  const footerSize = Math.max(10, Math.round(short * 0.025));

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">`,
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="0.35" y2="1">`,
    `<stop offset="0" stop-color="${skyTop}"/><stop offset="1" stop-color="${skyBottom}"/>`,
    `</linearGradient></defs>`,
    `<rect width="${w}" height="${h}" fill="url(#sky)"/>`,
    ...orbs,
    `<polygon points="${ridge.join(' ')}" fill="${land}"/>`,
    `<rect x="${Math.round(w * 0.05)}" y="${panelY}" width="${Math.round(w * 0.9)}" height="${panelHeight}" rx="${Math.round(fontSize / 2)}" fill="#000" fill-opacity="0.45"/>`,
    `<text font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="${fontSize}" fill="#fff" text-anchor="middle">${tspans}</text>`,
    `<text x="${w - footerSize}" y="${h - footerSize}" font-family="DejaVu Sans Mono, monospace" font-size="${footerSize}" fill="#fff" fill-opacity="0.8" text-anchor="end">${escapeXml(spec.footer)}</text>`,
    `</svg>`,
  ].join('');
}

function wrap(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length > 0 && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

/** Escapes text for SVG element content and attributes; prompts contain quotes and ampersands. */
export function escapeXml(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
      // XML 1.0 forbids most control characters even when escaped; librsvg would reject the file.
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
  );
}

/** Hex colour from hue (degrees), saturation and lightness (0..1); hex avoids relying on librsvg's CSS support. */
function hslHex(h: number, s: number, l: number): string {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  const hex = (v: number): string =>
    Math.round((v + m) * 255)
      .toString(16)
      .padStart(2, '0');
  return `#${hex(r)}${hex(g)}${hex(b)}`;
}
