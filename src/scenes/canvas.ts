import { ASPECT_RATIOS, type Config } from '../platform/config.ts';

/** The shapes a picture can be asked in, by name, with the aspect ratio the image model is sent. */
export const SHAPES = { landscape: '16:9', portrait: '9:16', square: '1:1', wide: '21:9' } as const;
export type Shape = keyof typeof SHAPES;
/** {@link SHAPES}' names, in the order doors offer them. */
export const SHAPE_NAMES = Object.keys(SHAPES) as Shape[];

/** A picture's quality: the fast image model or the pro one (`generation.quality_models`). */
export const QUALITIES = ['fast', 'pro'] as const;
export type Quality = (typeof QUALITIES)[number];

/** Longest director's note of a scene request, characters. */
export const MAX_NOTE_CHARS = 200;

/** The image model of a quality, or null when the operator offers no pro model. */
export function qualityModel(config: Config, quality: Quality): string | null {
  const models = config.generation.quality_models;
  return quality === 'fast' ? (models.fast ?? config.generation.image_model) : models.pro;
}

/**
 * The model and aspect ratio a stored picture was painted with, so a reroll or an edit keeps its shape
 * and quality: the ratio is the one of Gemini's ({@link ASPECT_RATIOS}) nearest to its width ÷ height
 * (pixels), since the model's sizes round each ratio slightly (1376×768 for 16:9).
 */
export function canvasOf(image: { readonly model: string; readonly width: number; readonly height: number }): {
  readonly model: string;
  readonly aspectRatio: string;
} {
  const ratio = Math.log(image.width / image.height);
  const value = (r: string) => {
    const [w, h] = r.split(':').map(Number) as [number, number];
    return Math.abs(Math.log(w / h) - ratio);
  };
  const aspectRatio = [...ASPECT_RATIOS].sort((a, b) => value(a) - value(b))[0]!;
  return { model: image.model, aspectRatio };
}

/** `portrait (9:16)`; an aspect ratio that is no named shape reads as itself. */
export function shapeLabel(aspectRatio: string): string {
  const name = SHAPE_NAMES.find((s) => SHAPES[s] === aspectRatio);
  return name ? `${name} (${aspectRatio})` : aspectRatio;
}
