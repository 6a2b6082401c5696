import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from 'discord.js';
import type { ImageRow } from '../../src/platform/schema.ts';

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
