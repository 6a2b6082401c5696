import type { Config } from '../platform/config.ts';

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

/** `portrait (9:16)`; an aspect ratio that is no named shape reads as itself. */
export function shapeLabel(aspectRatio: string): string {
  const name = SHAPE_NAMES.find((s) => SHAPES[s] === aspectRatio);
  return name ? `${name} (${aspectRatio})` : aspectRatio;
}
