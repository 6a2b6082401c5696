import type { Attachment } from 'discord.js';
import type { Config } from '../../src/config.ts';
import { LimnerError, ReferenceDownloadError, ReferenceNotImageError, ReferenceTooLargeError } from '../../src/errors.ts';
import type { UserReference } from '../../src/images/reference.ts';

/** What a download needs to know of a Discord attachment: its payload fields, never a user-typed URL. */
export type AttachmentInfo = Pick<Attachment, 'name' | 'url' | 'size' | 'contentType'>;

/** Limits of one download. */
export interface DownloadLimits {
  /** Largest file accepted, bytes. */
  readonly maxBytes: number;
  /** Budget for the whole download, headers and body, ms. */
  readonly timeoutMs: number;
}

/** The configured limits (`discord.attachment_max_bytes`, `discord.attachment_timeout_ms`). */
export function downloadLimits(config: Config): DownloadLimits {
  return { maxBytes: config.discord.attachment_max_bytes, timeoutMs: config.discord.attachment_timeout_ms };
}

/**
 * Refuses, before any download, an attachment whose payload already says it is not an image
 * (`content_type`) or is larger than `limits.maxBytes` (`size`).
 * @throws ReferenceNotImageError, ReferenceTooLargeError
 */
export function checkAttachment(attachment: AttachmentInfo, limits: DownloadLimits): void {
  if (attachment.contentType && !attachment.contentType.startsWith('image/')) throw new ReferenceNotImageError(attachment.name);
  if (attachment.size > limits.maxBytes) throw new ReferenceTooLargeError(attachment.name, limits.maxBytes);
}

/**
 * Downloads a user's attachment from the URL Discord gave for it in the message or interaction
 * payload. The payload's size is checked first and the body is counted as it arrives, so a file
 * larger than announced is cut off at `limits.maxBytes`; the whole download must finish within
 * `limits.timeoutMs`. Whether the bytes are an image is for `userReferencePng` (src/images/reference.ts) to decide.
 * @throws ReferenceNotImageError, ReferenceTooLargeError, ReferenceDownloadError (HTTP error, network failure or timeout)
 */
export async function downloadAttachment(attachment: AttachmentInfo, limits: DownloadLimits): Promise<UserReference> {
  checkAttachment(attachment, limits);
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(attachment.url, { signal });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new ReferenceDownloadError(attachment.name, undefined);
    }
    if (Number(response.headers.get('content-length') ?? 0) > limits.maxBytes) {
      await response.body.cancel();
      throw new ReferenceTooLargeError(attachment.name, limits.maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    // Leaving the loop by throwing cancels the stream, so an oversized body is not read to its end.
    for await (const chunk of response.body) {
      bytes += chunk.byteLength;
      if (bytes > limits.maxBytes) throw new ReferenceTooLargeError(attachment.name, limits.maxBytes);
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
