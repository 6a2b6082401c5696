import { LimnerError } from '../errors.ts';

/** A picture from the model with more pixels than `limitPixels` (`generation.max_input_pixels`): not decoded, not kept. */
export class ModelImageTooLargeError extends LimnerError {
  readonly code = 'model_image_too_large';
  constructor(
    readonly limitPixels: number,
    options?: { cause?: unknown },
  ) {
    super(
      `Gemini sent a picture larger than ${limitPixels.toLocaleString('en-US')} pixels (width × height), the limit of generation.max_input_pixels, so it was not kept. Please try again.`,
      options,
    );
  }
}

/** Image bytes that sharp cannot decode or that exceed the pixel limit (then `limitPixels` is that limit). */
export class InvalidImageError extends LimnerError {
  readonly code = 'image_invalid';
  readonly limitPixels: number | undefined;
  constructor(detail: string, options?: { cause?: unknown; limitPixels?: number }) {
    super(`The image could not be read: ${detail}`, options);
    this.limitPixels = options?.limitPixels;
  }
}

/** A user's reference file that is not a PNG, JPEG, WebP or GIF image. */
export class ReferenceNotImageError extends LimnerError {
  readonly code = 'reference_not_image';
  constructor(
    readonly fileName: string,
    options?: { cause?: unknown },
  ) {
    super(`"${fileName.slice(0, 100)}" is not an image Limner can use as a reference: attach a PNG, JPEG, WebP or GIF.`, options);
  }
}

/** A user's reference image with more pixels than `limitPixels` (sharp `limitInputPixels`). */
export class ReferenceTooManyPixelsError extends LimnerError {
  readonly code = 'reference_too_many_pixels';
  constructor(
    readonly fileName: string,
    readonly limitPixels: number,
    options?: { cause?: unknown },
  ) {
    super(
      `"${fileName.slice(0, 100)}" has too many pixels: reference images can have at most ${limitPixels.toLocaleString('en-US')} (width × height).`,
      options,
    );
  }
}

/** A delete by someone who neither made the picture nor may moderate the channel's messages. */
export class DeleteNotAllowedError extends LimnerError {
  readonly code = 'image_delete_not_allowed';
  constructor() {
    super('Only the person who made this picture, or a moderator, can delete it.');
  }
}

/** A delete of "my latest picture" by a user with no live picture in the campaign. */
export class NothingToDeleteError extends LimnerError {
  readonly code = 'delete_nothing';
  constructor(readonly campaignId: string) {
    super(`There is no picture of yours in campaign ${campaignId} to delete.`);
  }
}

/** A stored picture (or kept reference) that is not in the picture storage under its key. */
export class PictureNotFoundError extends LimnerError {
  readonly code = 'picture_not_found';
  /** @param key - The storage key, e.g. `<campaign>/images/<id>.png`. */
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`The picture file ${key} is missing from the picture storage.`, options);
  }
}
