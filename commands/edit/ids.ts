import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import { ImageGoneError } from '../../src/edits/errors.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import { MAX_VARIATIONS } from '../../src/scenes/illustrate.ts';
import { isVisible } from '../bot/visibility.ts';
import { ComponentIdError } from '../errors.ts';

/**
 * `custom_id` prefixes of the scene message buttons and the modals they open; the picture's id
 * follows after a colon (`scene-prompt-modal:<uuid>`, 55 characters, the longest, within Discord's 100).
 * A Use button adds its number: `scene-use:<uuid>:<n>`.
 */
export const CUSTOM_ID = {
  edit: 'scene-edit',
  reroll: 'scene-reroll',
  undo: 'scene-undo',
  editModal: 'scene-edit-modal',
  prompt: 'scene-prompt',
  promptModal: 'scene-prompt-modal',
  delete: 'scene-delete',
  use: 'scene-use',
} as const;

/** The text input of the edit modal and of the prompt modal. */
export const PROMPT_FIELD = 'prompt';

/**
 * The buttons under every scene picture, one row of Discord's five: Edit (modal), Reroll, Undo, Edit
 * prompt (modal) and Delete. Undo is disabled on a picture that was not made from another, where
 * there is nothing to go back to; Edit prompt on an edit, which has an instruction, not a scene prompt.
 */
export function sceneButtons(image: Pick<ImageRow, 'id' | 'parentImageId' | 'mode'>): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(`${CUSTOM_ID.edit}:${image.id}`).setLabel('Edit').setEmoji('✏️').setStyle(ButtonStyle.Primary),
    new ButtonBuilder().setCustomId(`${CUSTOM_ID.reroll}:${image.id}`).setLabel('Reroll').setEmoji('🎲').setStyle(ButtonStyle.Secondary),
    new ButtonBuilder()
      .setCustomId(`${CUSTOM_ID.undo}:${image.id}`)
      .setLabel('Undo')
      .setEmoji('↩️')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(image.parentImageId === null),
    new ButtonBuilder()
      .setCustomId(`${CUSTOM_ID.prompt}:${image.id}`)
      .setLabel('Edit prompt')
      .setEmoji('📝')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(image.mode === 'edit'),
    new ButtonBuilder().setCustomId(`${CUSTOM_ID.delete}:${image.id}`).setLabel('Delete').setEmoji('🗑️').setStyle(ButtonStyle.Danger),
  );
}

/**
 * The Use 1 … Use n buttons under a contact sheet of variations (n ≤ 4, one row); `null` marks a
 * deleted variation, which keeps its number but loses its button.
 */
export function variationButtons(imageIds: ReadonlyArray<string | null>): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    imageIds.flatMap((id, i) =>
      id === null
        ? []
        : [
            new ButtonBuilder()
              .setCustomId(`${CUSTOM_ID.use}:${id}:${i + 1}`)
              .setLabel(`Use ${i + 1}`)
              .setStyle(ButtonStyle.Primary),
          ],
    ),
  );
}

/** A picture id as the image store makes them (`randomUUID`, lower case). */
const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a string shaped like a picture id (a lower-case UUID). */
export function isImageId(value: string): boolean {
  return IMAGE_ID.test(value);
}

/**
 * The picture a scene button or the edit modal acts on, from the parts of its custom id after the
 * prefix: exactly one, a picture id. A picture of a campaign this guild may not see (see
 * `visibleIn`) is refused exactly as one that is gone, so a forged id cannot reach or confirm
 * another guild's pictures.
 * @throws ComponentIdError for anything but one picture id; ImageGoneError for a picture that is
 *   not stored or not visible in `guildId`.
 */
export async function pictureOf(limner: Limner, args: readonly string[], guildId: string | null): Promise<ImageRow> {
  const [imageId = '', ...rest] = args;
  if (rest.length > 0 || !isImageId(imageId)) throw new ComponentIdError('its picture id is not one');
  const image = await limner.images.get(imageId);
  if (!image || !(await isVisible(limner, image.campaignId, guildId))) throw new ImageGoneError(imageId);
  return image;
}

/**
 * The variation a Use button picks and its number on the sheet, from the parts of its custom id
 * after the prefix: a picture id, then 1-{@link MAX_VARIATIONS}. Refused as {@link pictureOf} refuses.
 * @throws ComponentIdError for anything else; ImageGoneError as {@link pictureOf}.
 */
export async function variationOf(
  limner: Limner,
  args: readonly string[],
  guildId: string | null,
): Promise<{ image: ImageRow; position: number }> {
  const [imageId = '', position = '', ...rest] = args;
  const n = /^[1-9]$/.test(position) ? Number(position) : 0;
  if (rest.length > 0 || n < 1 || n > MAX_VARIATIONS) throw new ComponentIdError('its variation number is not one');
  return { image: await pictureOf(limner, [imageId], guildId), position: n };
}
