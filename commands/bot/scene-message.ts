import { AttachmentBuilder, EmbedBuilder, type ActionRowBuilder, type ButtonBuilder } from 'discord.js';
import { sceneButtons } from '../edit/ids.ts';
import type { EditResult } from '../../src/edits/edit.ts';
import type { SceneResult } from '../../src/scenes/illustrate.ts';
import { downloadName } from '../../src/exports/names.ts';
import { fitPreview } from '../../src/images/preview.ts';
import type { ImageStore } from '../../src/images/store.ts';

const EMBED_DESCRIPTION_MAX = 4096;
/** Discord's limit on an embed field's value, characters. */
const EMBED_FIELD_MAX = 1024;
const number = new Intl.NumberFormat('en-US');

/**
 * The finished scene message: the picture as an attachment named `{campaign}_turn_{N}_{mode}.png`
 * (seed 17-6), an embed with the title, the prompt and a footer (model, pixels, estimated USD), and
 * the requester's director's note and, for `/scene best`, the chosen turn's quote and the scanner's reason as fields, and
 * the characters whose portraits went with the image call.
 * A PNG over `limitBytes` is replaced by a WebP/JPEG preview that fits; the PNG stays on disk for export.
 * Under it go the Edit, Reroll, Undo, Edit prompt and Delete buttons ({@link sceneButtons}).
 * @param limitBytes - The interaction's `attachmentSizeLimit`, bytes.
 * @param images - Reads the stored PNG when `result` does not carry it.
 * @throws PictureNotFoundError when the stored PNG is missing.
 */
export async function sceneReply(
  result: Pick<SceneResult, 'image' | 'file' | 'png' | 'campaign' | 'best' | 'note'> & { readonly referenced?: readonly string[] },
  title: string,
  limitBytes: number,
  images: Pick<ImageStore, 'read'>,
): Promise<SceneMessage> {
  const { image, campaign } = result;
  const png = result.png ?? (await images.read(image));
  const nameParts = { campaignName: campaign.name, campaignId: campaign.id, turn: image.turn, mode: image.mode };
  let file = new AttachmentBuilder(png, { name: downloadName(nameParts) });
  let content = '';
  if (png.byteLength > limitBytes) {
    const preview = await fitPreview(png, limitBytes);
    if (!preview) {
      return {
        content: `The picture (${megabytes(png.byteLength)}) is too large to upload here; it is kept for export.`,
        embeds: [],
        files: [],
        components: [sceneButtons(image)],
      };
    }
    file = new AttachmentBuilder(preview.data, {
      name: downloadName({ ...nameParts, extension: preview.format === 'webp' ? 'webp' : 'jpg' }),
    });
    content = `Showing a compressed preview (${preview.format.toUpperCase()}, ${megabytes(preview.data.byteLength)}): the full PNG (${megabytes(png.byteLength)}) is kept for export.`;
  }
  const embed = new EmbedBuilder()
    .setTitle(title)
    .setDescription(truncate(image.prompt, EMBED_DESCRIPTION_MAX))
    .setImage(`attachment://${file.name}`)
    .setFooter({ text: `${image.model} · ${image.width}×${image.height} · est. $${image.costUsd.toFixed(3)}` })
    .setTimestamp(new Date(image.createdAt));
  if (result.note) embed.addFields({ name: "Director's note", value: truncate(result.note, EMBED_FIELD_MAX) });
  if (result.best) {
    embed.addFields(
      { name: 'The moment', value: truncate(`> **${result.best.speaker}:** ${result.best.quote}`, EMBED_FIELD_MAX) },
      { name: 'Why this one', value: truncate(result.best.rationale, EMBED_FIELD_MAX) },
    );
  }
  if (result.referenced && result.referenced.length > 0) {
    embed.addFields({ name: 'Portraits referenced', value: truncate(result.referenced.join(', '), EMBED_FIELD_MAX) });
  }
  return { content, embeds: [embed], files: [file], components: [sceneButtons(image)] };
}

/** A scene message's body, for an interaction's `editReply` and a message's `edit` alike. */
export interface SceneMessage {
  readonly content: string;
  readonly embeds: EmbedBuilder[];
  readonly files: AttachmentBuilder[];
  readonly components: ActionRowBuilder<ButtonBuilder>[];
}

/** `Turn 1,503` with the thousands separator users read. */
export function turnTitle(turn: number, suffix?: string): string {
  return `Turn ${number.format(turn)}${suffix ? ` · ${suffix}` : ''}`;
}

/** Embed title of a picture an edit operation shows, e.g. `Turn 2,160 · edit`. */
export function editTitle(result: EditResult, action: 'edit' | 'reroll' | 'undo'): string {
  if (action === 'undo') return turnTitle(result.image.turn, 'back to this picture');
  if (action === 'reroll') return turnTitle(result.image.turn, result.image.mode === 'edit' ? 'edit, rerolled' : 'rerolled');
  return turnTitle(result.image.turn, 'edit');
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
