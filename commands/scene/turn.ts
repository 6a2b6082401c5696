import { SlashCommandSubcommandBuilder } from 'discord.js';
import { findTurns } from '../../src/campaigns/search.ts';
import { requesterOf } from '../bot/picture-reply.ts';
import { addCountOption, answerWithScenes, COUNT_OPTION } from '../bot/variations-reply.ts';
import { turnTitle } from '../bot/scene-message.ts';
import type { SubcommandModule } from '../types.ts';
import { sceneOptionsOf, withSceneOptions } from '../bot/scene-options.ts';

/** `/scene turn number:<int>`: illustrates a numbered (1-based) turn; `number` autocompletes with previews. */
export const turn: SubcommandModule = {
  needsLink: true,
  data: withSceneOptions(
    new SlashCommandSubcommandBuilder()
      .setName('turn')
      .setDescription('Illustrate a numbered turn of the story')
      .addIntegerOption((o) =>
        o
          .setName('number')
          .setDescription('Turn number; type digits or words to search')
          .setRequired(true)
          .setMinValue(1)
          .setAutocomplete(true),
      ),
  ).addIntegerOption(addCountOption),

  async execute(interaction, ctx) {
    // A whole number of at least 1, as registered: the dispatcher checks every option (see checkOptions).
    const number = interaction.options.getInteger('number', true);
    await answerWithScenes(
      interaction,
      ctx,
      { kind: 'turn', campaignId: ctx.link.campaignId, turn: number, requester: requesterOf(interaction), ...sceneOptionsOf(interaction) },
      interaction.options.getInteger(COUNT_OPTION),
      (n) => turnTitle(n),
    );
  },

  async autocomplete(interaction, ctx) {
    const campaign = await ctx.limner.campaigns.load(ctx.link.campaignId);
    const typed = String(interaction.options.getFocused());
    await interaction.respond(findTurns(campaign.transcript, typed).map((c) => ({ name: c.label, value: c.turn })));
  },
};
