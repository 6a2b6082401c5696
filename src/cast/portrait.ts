import { withStyle } from '../scenes/prompt.ts';

/** Shape of reference portraits: a standing figure fits a tall frame. */
export const PORTRAIT_ASPECT_RATIO = '3:4';

/**
 * The image prompt of a neutral reference portrait: the whole figure and the face of one character,
 * plain background and even light, so the image model can later copy face and outfit into scenes.
 * The name is not sent (names never reach the image model), only the looks, with the art style.
 * @param maxChars - `generation.max_prompt_chars`.
 */
export function portraitPrompt(description: string, artStyle: string, maxChars: number): string {
  const scene =
    'Character reference sheet of a single character: a full-length figure standing in a neutral pose, facing the viewer, ' +
    'beside a close-up of the same face; plain light grey background, even soft lighting, no text, no other people. ' +
    `The character: ${description.replace(/\s+/g, ' ').trim()}`;
  return withStyle(scene, artStyle, maxChars).prompt;
}
