import { ReferenceNotImageError } from '../../src/images/errors.ts';
import { ReferenceDownloadError, ReferenceTooLargeError } from '../errors.ts';
import type { Attachment } from 'discord.js';
import type { Config } from '../../src/platform/config.ts';
import { LimnerError } from '../../src/errors.ts';
import type { UserReference } from '../../src/images/reference.ts';

/** What a download needs to know of a Discord attachment: its payload fields, never a user-typed URL. */
export type AttachmentInfo = Pick<Attachment, 'name' | 'url' | 'size' | 'contentType'>;

/** What an attachment is downloaded for: a reference image, or a story transcript (any text file). */
export type AttachmentUse = 'reference' | 'transcript';

/** Where Discord serves message and interaction attachments. */
const DISCORD_ATTACHMENT_ORIGINS = ['https://cdn.discordapp.com', 'https://media.discordapp.net'];

/** Limits of one download. */
export interface DownloadLimits {
  /** Largest file accepted, bytes. */
  readonly maxBytes: number;
  /** Budget for the whole download, headers and body, ms. */
  readonly timeoutMs: number;
  /** URL origins (`https://cdn.discordapp.com`) downloads may come from; nothing else is fetched. */
  readonly origins: ReadonlySet<string>;
}

/**
 * The configured limits (`discord.attachment_max_bytes`, `discord.attachment_timeout_ms`) and
 * Discord's attachment hosts, plus the origin of `discord.api_base` when set (another Discord,
 * such as the loopback emulator, serves its attachments itself).
 */
export function downloadLimits(config: Config): DownloadLimits {
  const origins = new Set(DISCORD_ATTACHMENT_ORIGINS);
  if (config.discord.api_base) origins.add(new URL(config.discord.api_base).origin);
  return { maxBytes: config.discord.attachment_max_bytes, timeoutMs: config.discord.attachment_timeout_ms, origins };
}

/** An attachment whose URL is not on one of Discord's attachment hosts; nothing was downloaded. */
export class ReferenceHostError extends LimnerError {
  readonly code = 'reference_host_refused';
  constructor(readonly fileName: string) {
    super(
      `"${fileName.slice(0, 100)}" is not stored on Discord's attachment servers, so Limner did not download it. Attach the image to your message instead.`,
    );
  }
}

/** The media types of the formats `userReferencePng` accepts (PNG, JPEG, WebP, GIF). */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/jpg', 'image/webp', 'image/gif']);
/** Their file name extensions, for an attachment whose payload has no `content_type`. */
const IMAGE_EXTENSION = /\.(png|jpe?g|webp|gif)$/i;

/**
 * Refuses, before any download and so before anything is posted, an attachment whose payload
 * already says it is not what `use` needs (a reference: a PNG, JPEG, WebP or GIF by `content_type`,
 * or without one by the file name's extension, so an SVG is refused here too) or is larger than
 * `limits.maxBytes` (`size`), or whose URL is on no host in `limits.origins`. Whether the bytes
 * really are such an image is for `userReferencePng` to decide after the download.
 * @throws ReferenceNotImageError, ReferenceTooLargeError, ReferenceHostError
 */
export function checkAttachment(attachment: AttachmentInfo, limits: DownloadLimits, use: AttachmentUse = 'reference'): void {
  if (use === 'reference') {
    const declared = attachment.contentType?.split(';')[0]?.trim().toLowerCase();
    if (declared ? !IMAGE_TYPES.has(declared) : !IMAGE_EXTENSION.test(attachment.name)) throw new ReferenceNotImageError(attachment.name);
  }
  if (attachment.size > limits.maxBytes) throw new ReferenceTooLargeError(attachment.name, limits.maxBytes, use);
  if (!limits.origins.has(originOf(attachment.url))) throw new ReferenceHostError(attachment.name);
}

/** The URL's origin, or '' (allowed nowhere) for a string that is not a URL. */
function originOf(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : '';
}

/**
 * Downloads a user's attachment from the URL Discord gave for it in the message or interaction
 * payload, only from a host in `limits.origins` and without following redirects, which could lead
 * anywhere (e.g. to the server's own network). The payload's size is checked first and the body is
 * counted as it arrives, so a file larger than announced is cut off at `limits.maxBytes`; the whole
 * download must finish within `limits.timeoutMs`. Whether the bytes are an image is for
 * `userReferencePng` (src/images/reference.ts) to decide, whether they are a transcript for `parseUploadedTranscript`.
 * @throws ReferenceNotImageError, ReferenceTooLargeError, ReferenceHostError, ReferenceDownloadError
 *   (HTTP error, redirect, network failure or timeout)
 */
export async function downloadAttachment(
  attachment: AttachmentInfo,
  limits: DownloadLimits,
  use: AttachmentUse = 'reference',
): Promise<UserReference> {
  checkAttachment(attachment, limits, use);
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(attachment.url, { signal, redirect: 'error' });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new ReferenceDownloadError(attachment.name, undefined);
    }
    if (Number(response.headers.get('content-length') ?? 0) > limits.maxBytes) {
      await response.body.cancel();
      throw new ReferenceTooLargeError(attachment.name, limits.maxBytes, use);
    }
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    // Leaving the loop by throwing cancels the stream, so an oversized body is not read to its end.
    for await (const chunk of response.body) {
      bytes += chunk.byteLength;
      if (bytes > limits.maxBytes) throw new ReferenceTooLargeError(attachment.name, limits.maxBytes, use);
      chunks.push(chunk);
    }
    return { name: attachment.name, bytes: Buffer.concat(chunks) };
  } catch (err) {
    if (err instanceof LimnerError) throw err;
    throw new ReferenceDownloadError(attachment.name, signal.aborted ? limits.timeoutMs : undefined, { cause: err });
  }
}

/** {@link downloadAttachment} for each attachment, in order, after checking them all. */
export async function downloadAttachments(attachments: readonly AttachmentInfo[], limits: DownloadLimits): Promise<UserReference[]> {
  for (const attachment of attachments) checkAttachment(attachment, limits);
  const out: UserReference[] = [];
  for (const attachment of attachments) out.push(await downloadAttachment(attachment, limits));
  return out;
}
