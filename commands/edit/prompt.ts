import { LabelBuilder, ModalBuilder, TextInputBuilder, TextInputStyle } from 'discord.js';
import type { ComponentModule } from '../types.ts';
import { ComponentIdError } from '../errors.ts';
import { CUSTOM_ID, pictureOf, PROMPT_FIELD } from './ids.ts';
import { answerWithPicture, requesterOf } from '../bot/picture-reply.ts';
import { turnTitle } from '../bot/scene-message.ts';

/** Discord's limit on a text input's length (and so on the value it is pre-filled with), characters. */
const TEXT_INPUT_MAX = 4000;

/**
 * Edit prompt: the picture's owner gets a modal pre-filled with its visual prompt (art style
 * included), at most `generation.max_prompt_chars` or Discord's 4,000 characters, whichever is less;
 * anyone else an ephemeral explanation.
 */
export const promptButton: ComponentModule = {
  prefix: CUSTOM_ID.prompt,
  async handle(interaction, ctx, args) {
    if (!interaction.isButton()) throw new ComponentIdError('it is not a button');
    const { id: imageId } = await pictureOf(ctx.limner, args, interaction.guildId);
    const image = await ctx.limner.edits.repaintable(imageId, interaction.user.id);
    const max = Math.min(ctx.limner.config.generation.max_prompt_chars, TEXT_INPUT_MAX);
    const shortened = image.prompt.length > max;
    const label = new LabelBuilder()
      .setLabel('The prompt to paint')
      .setTextInputComponent(
        new TextInputBuilder()
          .setCustomId(PROMPT_FIELD)
          .setStyle(TextInputStyle.Paragraph)
          .setRequired(true)
          .setMinLength(1)
          .setMaxLength(max)
          .setValue(image.prompt.slice(0, max)),
      );
    if (shortened) label.setDescription(`Shortened to the ${max.toLocaleString('en-US')} characters a box can hold.`);
    await interaction.showModal(
      new ModalBuilder()
        .setCustomId(`${CUSTOM_ID.promptModal}:${imageId}`)
        .setTitle('Repaint from a changed prompt')
        .addLabelComponents(label),
    );
  },
};

/** The submitted prompt modal: a new picture painted from the changed prompt (ownership is checked again). */
export const promptModal: ComponentModule = {
  prefix: CUSTOM_ID.promptModal,
  async handle(interaction, ctx, args) {
    if (!interaction.isModalSubmit()) throw new ComponentIdError('it is not a form');
    const { id: imageId } = await pictureOf(ctx.limner, args, interaction.guildId);
    const field = interaction.fields.fields.get(PROMPT_FIELD);
    const prompt = field && 'value' in field ? field.value : undefined;
    if (typeof prompt !== 'string') throw new ComponentIdError('its form has no prompt');
    const { edits } = ctx.limner;
    const requester = requesterOf(interaction);
    await answerWithPicture(interaction, ctx, {
      check: async () => {
        await edits.repaintable(imageId, interaction.user.id);
        edits.parsePrompt(prompt);
        await edits.check(requester);
      },
      run: (report) => edits.repaint({ imageId, prompt, requester }, { onProgress: report }),
      title: (result) => turnTitle(result.image.turn, 'repainted'),
    });
  },
};
