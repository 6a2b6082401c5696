import { LabelBuilder, ModalBuilder, TextInputBuilder, TextInputStyle } from 'discord.js';
import { MAX_INSTRUCTION_CHARS, parseInstruction } from '../../src/edits/edit.ts';
import type { ComponentModule } from '../types.ts';
import { ComponentIdError } from '../errors.ts';
import { CUSTOM_ID, pictureOf, PROMPT_FIELD } from './ids.ts';
import { answerWithPicture, requesterOf } from '../bot/picture-reply.ts';
import { editTitle } from '../bot/scene-message.ts';

/** Edit: the picture's owner gets a modal asking what to change; anyone else an ephemeral explanation. */
export const editButton: ComponentModule = {
  prefix: CUSTOM_ID.edit,
  async handle(interaction, ctx, args) {
    if (!interaction.isButton()) throw new ComponentIdError('it is not a button');
    const { id: imageId } = await pictureOf(ctx.limner, args, interaction.guildId);
    await ctx.limner.edits.ownedImage(imageId, interaction.user.id);
    await interaction.showModal(
      new ModalBuilder()
        .setCustomId(`${CUSTOM_ID.editModal}:${imageId}`)
        .setTitle('Edit this picture')
        .addLabelComponents(
          new LabelBuilder()
            .setLabel('What should change?')
            .setTextInputComponent(
              new TextInputBuilder()
                .setCustomId(PROMPT_FIELD)
                .setStyle(TextInputStyle.Paragraph)
                .setPlaceholder('e.g. make it night, give the dwarf a red cloak')
                .setRequired(true)
                .setMinLength(1)
                .setMaxLength(MAX_INSTRUCTION_CHARS),
            ),
        ),
    );
  },
};

/** The submitted edit modal: edits the picture it was opened on (ownership is checked again). */
export const editModal: ComponentModule = {
  prefix: CUSTOM_ID.editModal,
  async handle(interaction, ctx, args) {
    if (!interaction.isModalSubmit()) throw new ComponentIdError('it is not a form');
    const { id: imageId } = await pictureOf(ctx.limner, args, interaction.guildId);
    const field = interaction.fields.fields.get(PROMPT_FIELD);
    const instruction = field && 'value' in field ? field.value : undefined;
    if (typeof instruction !== 'string') throw new ComponentIdError('its form has no prompt');
    const { edits } = ctx.limner;
    const requester = requesterOf(interaction);
    await answerWithPicture(interaction, ctx, {
      check: async () => {
        await edits.ownedImage(imageId, interaction.user.id);
        parseInstruction(instruction);
        await edits.check(requester);
      },
      run: (report) => edits.edit({ target: { kind: 'image', imageId }, requester, instruction }, { onProgress: report }),
      title: (result) => editTitle(result, 'edit'),
    });
  },
};

/** Reroll: anyone may draw the picture again; the new picture becomes the presser's session. */
export const rerollButton: ComponentModule = {
  prefix: CUSTOM_ID.reroll,
  async handle(interaction, ctx, args) {
    if (!interaction.isButton()) throw new ComponentIdError('it is not a button');
    const { id: imageId } = await pictureOf(ctx.limner, args, interaction.guildId);
    const { edits } = ctx.limner;
    const requester = requesterOf(interaction);
    await answerWithPicture(interaction, ctx, {
      check: () => edits.check(requester),
      run: (report) => edits.reroll({ imageId, requester }, { onProgress: report }),
      title: (result) => editTitle(result, 'reroll'),
    });
  },
};

/** Undo: the owner's session goes back to the picture this one was edited from, which is shown again. */
export const undoButton: ComponentModule = {
  prefix: CUSTOM_ID.undo,
  async handle(interaction, ctx, args) {
    if (!interaction.isButton()) throw new ComponentIdError('it is not a button');
    const { id: imageId } = await pictureOf(ctx.limner, args, interaction.guildId);
    const { edits } = ctx.limner;
    await answerWithPicture(interaction, ctx, {
      check: () => edits.ownedImage(imageId, interaction.user.id).then(() => undefined),
      run: () => edits.undo({ imageId, userId: interaction.user.id }),
      title: (result) => editTitle(result, 'undo'),
    });
  },
};
