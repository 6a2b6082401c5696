import { ReferenceTooManyPixelsError } from './errors.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadSharp } from './sharp.ts';
import type { Character } from '../campaigns/campaign.ts';
import type { TranscriptEntry } from '../campaigns/transcript.ts';
import { LimnerError } from '../errors.ts';
import { userReferencePng } from './reference.ts';
import { mentions } from '../campaigns/character-names.ts';
import type { PictureStorage } from './storage.ts';

/**
 * A character's portrait that cannot be sent: unreadable, not a PNG, JPEG, WebP or GIF (SVG and other
 * formats are refused before decoding), or with more pixels than `limitPixels`. The message names the
 * character and the file's name, not the server's folders.
 */
export class PortraitError extends LimnerError {
  readonly code = 'portrait_invalid';
  /**
   * @param file - Absolute path of the portrait, for logs.
   * @param limitPixels - The pixel limit (`generation.max_input_pixels`) when `problem` is `too_many_pixels`.
   */
  constructor(
    readonly character: string,
    readonly file: string,
    readonly problem: 'unreadable' | 'not_image' | 'too_many_pixels',
    readonly limitPixels?: number,
    options?: { cause?: unknown },
  ) {
    const what = `The portrait of ${character} (${path.basename(file)})`;
    super(
      problem === 'unreadable'
        ? `${what} cannot be read.`
        : problem === 'not_image'
          ? `${what} is not a PNG, JPEG, WebP or GIF image.`
          : `${what} has more than ${(limitPixels ?? 0).toLocaleString('en-US')} pixels (width × height), the limit of generation.max_input_pixels.`,
      options,
    );
  }
}

/**
 * Input images one image-model request may carry: Gemini 3 image models take up to 14 reference
 * images (Gemini API docs, image generation); more is refused with a 400.
 */
export const MAX_INPUT_IMAGES = 14;

/**
 * Base64 characters (bytes) of inline images one request may carry. Gemini refuses requests over
 * 20 MB with inline data counted as base64, which is a third larger than the image bytes; 1 MB is
 * left for the prompt and the JSON around it.
 */
export const MAX_INLINE_BYTES = 19_000_000;

/**
 * JPEG quality of images re-encoded to fit {@link MAX_INLINE_BYTES}: hardly visible, several times
 * smaller than PNG. Plain libjpeg-turbo: mozjpeg saves a tenth more but takes ten times as long.
 */
const FIT_JPEG_QUALITY = 90;

/** Longest side, pixels, below which {@link fitInlineBudget} stops halving an image: smaller says too little to the model. */
const FIT_MIN_SIDE = 256;

/** An image sent to the model as `inlineData`: a character portrait, the picture being edited, a user's reference. */
export interface ReferenceImage {
  readonly mimeType: string;
  readonly data: Buffer;
}

/**
 * The characters present in `entries`, in order of presence: first those who speak (most lines
 * first), then those only named in the text ({@link mentions}: most mentions first); ties keep the
 * order in which they first appear. Characters neither speaking nor named are left out.
 */
export function presentCharacters(characters: readonly Character[], entries: readonly TranscriptEntry[]): Character[] {
  const seen = new Map<Character, { lines: number; named: number; first: number }>();
  for (const [i, entry] of entries.entries()) {
    for (const character of characters) {
      const lines = speaksAs(character, entry.speaker) ? 1 : 0;
      const named = mentions(character.name, entry.text);
      if (lines + named === 0) continue;
      const presence = seen.get(character) ?? { lines: 0, named: 0, first: i };
      seen.set(character, { lines: presence.lines + lines, named: presence.named + named, first: presence.first });
    }
  }
  return [...seen.entries()]
    .sort(([, a], [, b]) => Number(b.lines > 0) - Number(a.lines > 0) || b.lines - a.lines || b.named - a.named || a.first - b.first)
    .map(([character]) => character);
}

/**
 * The characters whose portraits go with a request, at most `max` of them: those present in
 * `entries` with a portrait, in order of presence ({@link presentCharacters}), so a scene is shown
 * the people in it and no one else.
 * @param max - Room left in the request for portraits, images.
 * @param options.others - Then the other characters with a portrait, in campaign order: an edit
 *   changes a picture that already shows its people, and more faces to copy cost nothing there.
 */
export function choosePortraits(
  characters: readonly Character[],
  entries: readonly TranscriptEntry[],
  max: number,
  options: { readonly others?: boolean } = {},
): Character[] {
  const withPortrait = characters.filter((c) => c.referenceImage ?? c.storedPortrait);
  const present = presentCharacters(withPortrait, entries);
  const chosen = options.others ? [...present, ...withPortrait.filter((c) => !present.includes(c))] : present;
  return chosen.slice(0, Math.max(0, max));
}

/**
 * Whether transcript lines by `speaker` are this character's: the speaker is its name, or a word
 * or words of it (play-by-post speakers are character names; CRD3 names characters
 * `Grog Strongjaw (played by TRAVIS)` while TRAVIS speaks).
 */
function speaksAs(character: Character, speaker: string): boolean {
  const who = speaker.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return who !== '' && new RegExp(`(^|[^\\p{L}\\p{N}])${who}($|[^\\p{L}\\p{N}])`, 'iu').test(character.name);
}

/**
 * The characters' portraits as PNG, shrunk for the model, in the order given. They get the rules of
 * users' references ({@link userReferencePng}): PNG, JPEG, WebP or GIF only, at most `maxPixels`.
 * That a portrait lies inside its campaign's folder is checked when the campaign is loaded.
 * @param maxPixels - Largest width x height decoded, pixels.
 * @param storage - Where cast portraits (`storedPortrait`) are read from.
 * @throws PortraitError naming the character, when a portrait cannot be read, is not such an image or is too large.
 */
export async function loadPortraits(
  characters: readonly Character[],
  maxPixels: number,
  storage: Pick<PictureStorage, 'get' | 'locate'>,
): Promise<ReferenceImage[]> {
  const out: ReferenceImage[] = [];
  for (const character of characters) {
    const { referenceImage, storedPortrait } = character;
    const portrait = referenceImage
      ? { file: referenceImage, read: () => readFile(referenceImage) }
      : storedPortrait
        ? { file: storage.locate(storedPortrait), read: () => storage.get(storedPortrait) }
        : undefined;
    if (!portrait) continue;
    const { file } = portrait;
    let bytes: Buffer;
    try {
      bytes = await portrait.read();
    } catch (err) {
      throw new PortraitError(character.name, file, 'unreadable', undefined, { cause: err });
    }
    try {
      out.push({ mimeType: 'image/png', data: await userReferencePng({ name: path.basename(file), bytes }, maxPixels) });
    } catch (err) {
      if (err instanceof ReferenceTooManyPixelsError)
        throw new PortraitError(character.name, file, 'too_many_pixels', maxPixels, { cause: err });
      throw new PortraitError(character.name, file, 'not_image', undefined, { cause: err });
    }
  }
  return out;
}

/** Length of `bytes` bytes in base64, as they travel in the request. */
function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/**
 * The images as they are when their base64 fits `budget` bytes; otherwise the largest one is
 * shrunk, again and again, until they fit: first re-encoded as JPEG with the same pixels, then
 * halved in size, down to {@link FIT_MIN_SIDE} pixels a side. Order is kept. When nothing can
 * shrink further the images are returned as they are and Gemini's own 400 names the problem
 * (it takes very many images or a tiny budget).
 * @param budget - Base64 bytes allowed; default {@link MAX_INLINE_BYTES}.
 */
export async function fitInlineBudget(images: readonly ReferenceImage[], budget = MAX_INLINE_BYTES): Promise<ReferenceImage[]> {
  const out = [...images];
  const done = new Set<number>();
  const total = () => out.reduce((sum, image) => sum + base64Length(image.data.byteLength), 0);
  while (total() > budget) {
    let largest = -1;
    for (const [i, image] of out.entries()) {
      if (!done.has(i) && (largest < 0 || image.data.byteLength > out[largest]!.data.byteLength)) largest = i;
    }
    if (largest < 0) break;
    const image = out[largest]!;
    const sharp = await loadSharp();
    const pipeline = sharp(image.data).flatten({ background: '#ffffff' });
    if (image.mimeType === 'image/jpeg') {
      const { width = 0, height = 0 } = await sharp(image.data).metadata();
      const half = Math.round(Math.max(width, height) / 2);
      if (half < FIT_MIN_SIDE) {
        done.add(largest);
        continue;
      }
      pipeline.resize({ width: half, height: half, fit: 'inside' });
    }
    out[largest] = { mimeType: 'image/jpeg', data: await pipeline.jpeg({ quality: FIT_JPEG_QUALITY }).toBuffer() };
  }
  return out;
}
