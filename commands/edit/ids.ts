import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from 'discord.js';
import type { ImageRow } from '../../src/platform/schema.ts';

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
