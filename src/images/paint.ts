import { InvalidImageError, ModelImageTooLargeError } from './errors.ts';
import { MalformedReplyError } from '../platform/errors.ts';
import type { Part } from '@google/genai';
import type { Config } from '../platform/config.ts';
import { normaliseToPng, type PngImage } from './normalise.ts';
import { candidateImage, type CallUsage, type GeminiGateway, type GenerateOptions } from '../platform/gemini.ts';
import { fitInlineBudget, MAX_INPUT_IMAGES, type ReferenceImage } from './references.ts';

/** An image the model drew, normalised to PNG, with the call's usage. */
export interface PaintedImage extends PngImage {
  readonly model: string;
  readonly usage: CallUsage;
  /** The call's usage ledger row, to link to the picture once it is stored. */
  readonly usageId: number;
}

/**
 * Draws `prompt` with a Gemini image model (`canvas.model`, default the configured one) through `models.generateContent`:
 * `responseModalities: ['IMAGE']`, `imageConfig` with the aspect ratio (`canvas.aspectRatio`, default the configured one) and the configured size,
 * and each image as an `inlineData` part after the text, shrunk when needed to fit Gemini's
 * request size ({@link fitInlineBudget}). The call is recorded in the usage ledger under
 * `options.record` whatever its outcome.
 * @param images - At most {@link MAX_INPUT_IMAGES}; callers choose which.
 * @param canvas - Model and aspect ratio instead of the configured ones (e.g. `3:4` for a standing figure).
 * @throws the {@link GeminiGateway.generate} errors; NoImageError when the candidate holds no
 *   image; NonImagePartError when it holds data of another kind; ModelImageTooLargeError when the
 *   picture has more than `generation.max_input_pixels` pixels; MalformedReplyError when its bytes do not decode.
 */
export async function paintImage(
  gateway: GeminiGateway,
  config: Config,
  prompt: string,
  images: readonly ReferenceImage[],
  options: GenerateOptions,
  canvas: { readonly model?: string; readonly aspectRatio?: string } = {},
): Promise<PaintedImage> {
  if (images.length > MAX_INPUT_IMAGES) throw new RangeError(`${images.length} input images; the image model takes ${MAX_INPUT_IMAGES}`);
  const model = canvas.model ?? config.generation.image_model;
  const parts: Part[] = [
    { text: prompt },
    ...(await fitInlineBudget(images)).map((r) => ({ inlineData: { mimeType: r.mimeType, data: r.data.toString('base64') } })),
  ];
  const { candidate, usage, usageId } = await gateway.generate(
    {
      model,
      contents: [{ role: 'user', parts }],
      config: {
        responseModalities: ['IMAGE'],
        imageConfig: { aspectRatio: canvas.aspectRatio ?? config.generation.aspect_ratio, imageSize: config.generation.image_size },
      },
    },
    options,
  );
  const image = candidateImage(candidate);
  try {
    const png = await normaliseToPng(image.data, config.generation.max_input_pixels);
    return { ...png, model, usage, usageId };
  } catch (err) {
    if (err instanceof InvalidImageError && err.limitPixels !== undefined)
      throw new ModelImageTooLargeError(err.limitPixels, { cause: err });
    if (err instanceof InvalidImageError) {
      throw new MalformedReplyError(`image part (${image.mimeType}, ${image.data.byteLength} bytes) does not decode`, {
        cause: err,
        arrived: `a picture (${image.mimeType}, ${image.data.byteLength.toLocaleString('en-US')} bytes)`,
      });
    }
    throw err;
  }
}
