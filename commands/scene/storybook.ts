import { MessageFlags, SlashCommandSubcommandBuilder, time, TimestampStyles } from 'discord.js';
import { NoImagesToExportError } from '../../src/exports/export.ts';
import { StorybookNotServedError } from '../../src/exports/serve.ts';
import { autocompleteCampaignsWithPictures, campaignName, campaignOption, chosenCampaign } from '../bot/campaign-choice.ts';
import type { SubcommandModule } from '../types.ts';

/**
 * `/scene storybook [campaign]`: a private, signed and expiring link to the campaign's storybook
 * page served by the bot (see `StorybookServer`). Only campaigns this guild may see get one.
 */
export const storybook: SubcommandModule = {
  needsLink: false,
  data: new SlashCommandSubcommandBuilder()
    .setName('storybook')
    .setDescription("A link to the campaign's pictures in story order, as a web page")
    .addStringOption(campaignOption),

  async execute(interaction, ctx) {
    const { limner } = ctx;
    const campaignId = await chosenCampaign(interaction, ctx);
    if (!limner.storybook) throw new StorybookNotServedError();
    if ((await limner.images.list(campaignId)).length === 0) throw new NoImagesToExportError();
    const link = limner.storybook.link(campaignId);
    const name = (await campaignName(limner, campaignId)) || campaignId;
    await interaction.reply({
      content: `The storybook of **${name}**: ${link.url}\nThe link is yours to share; it works until ${time(link.expiresAt, TimestampStyles.LongDateTime)}.`,
      flags: MessageFlags.Ephemeral,
    });
  },

  autocomplete: autocompleteCampaignsWithPictures,
};
