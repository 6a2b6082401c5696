import { MessageFlags, SlashCommandSubcommandBuilder } from 'discord.js';
import { findTurns } from '../../src/campaigns/search.ts';
import { requesterOf } from '../bot/picture-reply.ts';
import { addCountOption, answerWithScenes, COUNT_OPTION } from '../bot/variations-reply.ts';
import { turnTitle } from '../bot/scene-message.ts';
import type { SubcommandModule } from '../types.ts';

/** `/scene turn number:<int>`: illustrates a numbered (1-based) turn; `number` autocompletes with previews. */
export const turn: SubcommandModule = {
  needsLink: true,
  data: new SlashCommandSubcommandBuilder()
    .setName('turn')
    .setDescription('Illustrate a numbered turn of the story')
    .addIntegerOption((o) =>
      o
        .setName('number')
        .setDescription('Turn number; type digits or words to search')
        .setRequired(true)
        .setMinValue(1)
        .setAutocomplete(true),
    )
    .addIntegerOption(addCountOption),

  async execute(interaction, ctx) {
    const number = interaction.options.getInteger('number', true);
    if (!Number.isInteger(number)) {
      await interaction.reply({ content: `Turn numbers are whole numbers; "${number}" is not one.`, flags: MessageFlags.Ephemeral });
      return;
    }
    await answerWithScenes(
      interaction,
      ctx,
      { kind: 'turn', campaignId: ctx.link.campaignId, turn: number, requester: requesterOf(interaction) },
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
