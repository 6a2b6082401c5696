import type { Part } from '@google/genai';
import type { Config } from '../config.ts';
import { normaliseToPng, type PngImage } from '../images/normalise.ts';
import { MalformedReplyError, InvalidImageError } from '../errors.ts';
import { candidateImage, type CallUsage, type GeminiGateway } from './gemini.ts';

/** An image the model drew, normalised to PNG, with the call's usage. */
export interface RenderedImage extends PngImage {
  readonly model: string;
  readonly usage: CallUsage;
}

/** A reference picture sent with the prompt (a character portrait, a previous image). */
export interface ReferenceImage {
  readonly mimeType: string;
  readonly data: Buffer;
}

/**
 * Draws `prompt` with the configured Gemini image model through `models.generateContent`:
 * `responseModalities: ['IMAGE']`, `imageConfig` with the configured aspect ratio and size,
 * and each reference image as an `inlineData` part after the text.
 * @throws the {@link GeminiGateway.generate} errors; NoImageError when the candidate holds no
 *   image; MalformedReplyError when the image bytes do not decode.
 */
export async function renderImage(
  gateway: GeminiGateway,
  config: Config,
  prompt: string,
  references: readonly ReferenceImage[],
  signal?: AbortSignal,
): Promise<RenderedImage> {
  const model = config.generation.image_model;
  const parts: Part[] = [
    { text: prompt },
    ...references.map((r) => ({ inlineData: { mimeType: r.mimeType, data: r.data.toString('base64') } })),
  ];
  const { candidate, usage } = await gateway.generate(
    {
      model,
      contents: [{ role: 'user', parts }],
      config: {
        responseModalities: ['IMAGE'],
        imageConfig: { aspectRatio: config.generation.aspect_ratio, imageSize: config.generation.image_size },
      },
    },
    signal,
  );
  const image = candidateImage(candidate);
  try {
    const png = await normaliseToPng(image.data, config.generation.max_input_pixels);
    return { ...png, model, usage };
  } catch (err) {
    if (err instanceof InvalidImageError) {
      throw new MalformedReplyError(`image part (${image.mimeType}, ${image.data.byteLength} bytes) does not decode`, {
        cause: err,
      });
    }
    throw err;
  }
}
