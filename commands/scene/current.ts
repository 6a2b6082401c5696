import { SlashCommandSubcommandBuilder } from 'discord.js';
import { MAX_CONTEXT_ENTRIES } from '../../src/scenes/context.ts';
import { requesterOf } from '../bot/picture-reply.ts';
import { addCountOption, answerWithScenes, COUNT_OPTION } from '../bot/variations-reply.ts';
import { turnTitle } from '../bot/scene-message.ts';
import type { SubcommandModule } from '../types.ts';
import { sceneOptionsOf, withSceneOptions } from '../bot/scene-options.ts';

/** `/scene current [context]`: illustrates the latest moment of the linked campaign. */
export const current: SubcommandModule = {
  needsLink: true,
  data: withSceneOptions(
    new SlashCommandSubcommandBuilder()
      .setName('current')
      .setDescription('Illustrate the latest moment of the story')
      .addIntegerOption((o) =>
        o
          .setName('context')
          .setDescription('How many recent turns to read (default set by the operator, usually 10)')
          .setMinValue(1)
          .setMaxValue(MAX_CONTEXT_ENTRIES),
      ),
  ).addIntegerOption(addCountOption),

  async execute(interaction, ctx) {
    const context = interaction.options.getInteger('context') ?? undefined;
    await answerWithScenes(
      interaction,
      ctx,
      {
        kind: 'current',
        campaignId: ctx.link.campaignId,
        requester: requesterOf(interaction),
        ...sceneOptionsOf(interaction),
        ...(context === undefined ? {} : { contextEntries: context }),
      },
      interaction.options.getInteger(COUNT_OPTION),
      (turn) => turnTitle(turn, 'current scene'),
    );
  },
};
