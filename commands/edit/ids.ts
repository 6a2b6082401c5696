import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import { ImageGoneError } from '../../src/edits/errors.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import { isVisible } from '../bot/visibility.ts';
import { ComponentIdError } from '../errors.ts';

/**
 * `custom_id` prefixes of the scene message buttons and the edit modal; the picture's id follows
 * after a colon (`scene-edit:<uuid>`, 47 characters, within Discord's 100).
 */
export const CUSTOM_ID = {
  edit: 'scene-edit',
  reroll: 'scene-reroll',
  undo: 'scene-undo',
  editModal: 'scene-edit-modal',
} as const;

/** The text input of the edit modal. */
export const PROMPT_FIELD = 'prompt';

/**
 * The buttons under every scene picture: Edit (modal), Reroll and Undo. Undo is disabled on a
 * picture that was not edited from another, where there is nothing to go back to.
 */
export function sceneButtons(image: Pick<ImageRow, 'id' | 'parentImageId'>): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(`${CUSTOM_ID.edit}:${image.id}`).setLabel('Edit').setEmoji('✏️').setStyle(ButtonStyle.Primary),
    new ButtonBuilder().setCustomId(`${CUSTOM_ID.reroll}:${image.id}`).setLabel('Reroll').setEmoji('🎲').setStyle(ButtonStyle.Secondary),
    new ButtonBuilder()
      .setCustomId(`${CUSTOM_ID.undo}:${image.id}`)
      .setLabel('Undo')
      .setEmoji('↩️')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(image.parentImageId === null),
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
  const image = limner.images.get(imageId);
  if (!image || !(await isVisible(limner, image.campaignId, guildId))) throw new ImageGoneError(imageId);
  return image;
}
