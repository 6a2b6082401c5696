import { SlashCommandSubcommandBuilder } from 'discord.js';
import { answerWithDeletion } from '../edit/delete.ts';
import type { SubcommandModule } from '../types.ts';

/** `/scene delete`: deletes the caller's latest picture in the channel's campaign (answered privately). */
export const deletePicture: SubcommandModule = {
  needsLink: true,
  data: new SlashCommandSubcommandBuilder().setName('delete').setDescription("Delete your latest picture in this channel's campaign"),

  async execute(interaction, ctx) {
    await answerWithDeletion(interaction, ctx, { kind: 'latest', campaignId: ctx.link.campaignId });
  },
};
